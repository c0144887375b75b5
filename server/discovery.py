"""DNS-SD advertisement of the school server (``_ibc._tcp.local.``); browsing is device/discovery.py."""

from __future__ import annotations

import socket

from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from device.discovery import SERVICE_TYPE, make_zeroconf

__all__ = ["SERVICE_TYPE", "advertise", "make_zeroconf", "service_info"]


def service_info(*, school_id: str, school_name: str, api: int, addresses: list[str], port: int,
                 path: str = "/api/v1", fingerprint: str = "") -> AsyncServiceInfo:
    """The ServiceInfo a server registers; `fingerprint` (TXT ``fp``, the certificate's SHA-256,
    library/tls.py) says it speaks HTTPS with that certificate."""
    label = f"IBC {school_id}"[:60]
    properties = {"api": str(api), "school": school_name, "id": school_id, "path": path}
    if fingerprint:
        properties["fp"] = fingerprint
    return AsyncServiceInfo(
        SERVICE_TYPE, f"{label}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton(a) for a in addresses], port=port,
        properties=properties,
        server=f"ibc-{school_id}.local.",
    )


async def advertise(aiozc: AsyncZeroconf, info: AsyncServiceInfo) -> None:
    """Register the service (allowing a restarted server to take its own name back)."""
    await aiozc.async_register_service(info, allow_name_change=False, cooperating_responders=True)
