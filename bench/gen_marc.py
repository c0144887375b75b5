"""Generate realistic synthetic MARC files for benchmarks and the kill -9 test (streaming).

RUSMARC records look like ИРБИС exports: cp1251, blank leader/09, Cyrillic titles and authors,
010 ISBN, 100/101/200/210/215, 606 subjects, 675 УДК, 686 ББК ($2 rubbk), 700/701, 900^z age,
903 шифр and one to three 910 copies with status, inventory number, location and barcode.
MARC21 records are UTF-8 (leader/09 'a') with 001/003/008/020/041/080/084/100/245/260/300/
520/650/700 and 952 copies. Record i always has (i % 3) + 1 copies, which tests rely on.

    python bench/gen_marc.py rusmarc 100000 /tmp/rus.iso
    python bench/gen_marc.py marc21 100000 /tmp/m21.mrc
"""

from __future__ import annotations

import random
import sys

from library.marc.iso2709 import encode_record
from library.marc.model import ControlField, DataField, MarcRecord

WORDS = ("история математика физика природа путешествие приключения сказки война мир школа "
         "дружба лес море звёзды космос город деревня зима лето осень весна друзья тайна остров "
         "капитан дорога дом семья книга язык литература химия биология география музыка "
         "искусство спорт здоровье техника компьютер программирование робот животные птицы").split()
SURNAMES = "Иванов Петров Сидоров Кузнецов Смирнов Попов Васильев Соколов Михайлов Новиков " \
           "Фёдоров Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов".split()
NAMES = "Александр Алексей Анна Мария Сергей Ольга Николай Елена Дмитрий Татьяна".split()
CITIES = ["М.", "СПб.", "Новосибирск", "Екатеринбург", "Казань", "Томск"]
PUBLISHERS = ["Просвещение", "Дрофа", "АСТ", "Эксмо", "Росмэн", "Детская литература", "Махаон"]
SUBJECTS = ["Русская литература", "Детская литература", "Математика -- Учебные издания",
            "История России", "Естествознание", "Физика", "Приключения"]
AGES = ["0+", "6+", "12+", "16+", "18+"]
EN_WORDS = ("history mathematics physics nature journey adventure tales war peace school friendship "
            "forest sea stars space city village winter summer friends secret island captain road "
            "home family book language").split()


def _isbn(rnd: random.Random) -> str:
    body = "9785" + "".join(str(rnd.randrange(10)) for _ in range(8))
    check = (10 - sum(int(c) * (1 if k % 2 == 0 else 3) for k, c in enumerate(body)) % 10) % 10
    return body + str(check)


def rusmarc_record(i: int, rnd: random.Random) -> MarcRecord:
    """One ИРБИС-like RUSMARC record number `i`."""
    title = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 6))).capitalize()
    surname, name = rnd.choice(SURNAMES), rnd.choice(NAMES)
    year = rnd.randint(1960, 2025)
    isbn = _isbn(rnd)
    f: list = [
        ControlField("001", f"RU\\GEN\\bibl\\{i}"),
        ControlField("005", "20240101120000.0"),
        DataField("010", " ", " ", [("a", f"{isbn[:3]}-{isbn[3]}-{isbn[4:8]}-{isbn[8:12]}-{isbn[12]}"),
                                    ("d", f"{rnd.randint(100, 900)} р.")]),
        DataField("100", " ", " ", [("a", f"20240101d{year}    k  y0rusy0189    ca")]),
        DataField("101", "0", " ", [("a", "rus")]),
        DataField("200", "1", " ", [("a", title), ("e", rnd.choice(["роман", "повесть", "учебник",
                                                                     "сборник"])),
                                    ("f", f"{name[0]}. {surname}")]),
        DataField("210", " ", " ", [("a", rnd.choice(CITIES)), ("c", rnd.choice(PUBLISHERS)),
                                    ("d", str(year))]),
        DataField("215", " ", " ", [("a", f"{rnd.randint(16, 900)} с."), ("c", "ил.")]),
        DataField("330", " ", " ", [("a", " ".join(rnd.choice(WORDS) for _ in range(25)))]),
        DataField("606", "0", " ", [("a", rnd.choice(SUBJECTS))]),
        DataField("675", " ", " ", [("a", f"{rnd.randint(1, 9)}{rnd.randint(0, 99)}.{rnd.randint(1, 9)}")]),
        DataField("686", " ", " ", [("a", f"{rnd.randint(20, 88)}.{rnd.randint(1, 9)}"),
                                    ("2", "rubbk")]),
        DataField("700", " ", "1", [("a", surname), ("b", f"{name[0]}."), ("g", name)]),
        DataField("900", " ", " ", [("t", "a"), ("b", "05"), ("z", rnd.choice(AGES))]),
        DataField("903", " ", " ", [("a", f"{rnd.randint(10, 99)}/{surname[0]} {i}")]),
    ]
    for k in range(i % 3 + 1):
        inv = f"{i:07d}{k}"
        f.append(DataField("910", " ", " ", [
            ("a", rnd.choice("0000015")), ("b", inv), ("c", "20240101"), ("d", "ИБЦ"),
            ("h", f"2{i:09d}{k:02d}"), ("r", rnd.choice(["ЧЗ", "АБ", "ДО"]))]))
    return MarcRecord("00000nam  2200000 i 450 ", f)


def marc21_record(i: int, rnd: random.Random) -> MarcRecord:
    """One MARC21 record number `i` (UTF-8)."""
    title = " ".join(rnd.choice(EN_WORDS) for _ in range(rnd.randint(2, 6))).capitalize()
    surname, name = rnd.choice(SURNAMES), rnd.choice(NAMES)
    year = rnd.randint(1960, 2025)
    f: list = [
        ControlField("001", f"gen{i:09d}"),
        ControlField("003", "GEN"),
        ControlField("008", f"240101s{year}    ru a          000 1 rus d"),
        DataField("020", " ", " ", [("a", _isbn(rnd))]),
        DataField("041", "0", " ", [("a", "rus")]),
        DataField("080", " ", " ", [("a", f"{rnd.randint(1, 9)}{rnd.randint(0, 99)}")]),
        DataField("084", " ", " ", [("a", f"{rnd.randint(20, 88)}.{rnd.randint(1, 9)}"),
                                    ("2", "rubbk")]),
        DataField("100", "1", " ", [("a", f"{surname}, {name}")]),
        DataField("245", "1", "0", [("a", f"{title} /"), ("c", f"{name} {surname}.")]),
        DataField("260", " ", " ", [("a", "Москва :"), ("b", rnd.choice(PUBLISHERS) + ","),
                                    ("c", f"{year}.")]),
        DataField("300", " ", " ", [("a", f"{rnd.randint(16, 900)} p.")]),
        DataField("520", " ", " ", [("a", " ".join(rnd.choice(EN_WORDS) for _ in range(25)))]),
        DataField("521", " ", " ", [("a", rnd.choice(AGES))]),
        DataField("650", " ", "0", [("a", rnd.choice(EN_WORDS).capitalize()), ("x", "Fiction.")]),
    ]
    for k in range(i % 3 + 1):
        f.append(DataField("952", " ", " ", [("a", "SCH1"), ("i", f"{i:07d}{k}"),
                                             ("p", f"3{i:09d}{k:02d}"), ("o", "ЧЗ")]))
    return MarcRecord("00000nam a2200000 i 4500", f)


def generate(kind: str, count: int, path: str, seed: int = 1) -> None:
    """Write `count` records of `kind` ('rusmarc' cp1251 or 'marc21' UTF-8) to `path`."""
    rnd = random.Random(seed)
    make, enc = (rusmarc_record, "cp1251") if kind == "rusmarc" else (marc21_record, "utf-8")
    with open(path, "wb", buffering=1 << 20) as fh:
        for i in range(count):
            fh.write(encode_record(make(i, rnd), enc))


if __name__ == "__main__":
    generate(sys.argv[1], int(sys.argv[2]), sys.argv[3])
