"""The textbook fund (issue 18): titles (titles.py), the class issue (issue.py) and provision
(provision.py). docs/TEXTBOOKS.md."""
