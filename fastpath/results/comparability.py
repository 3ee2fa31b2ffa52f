"""Whether two swprofiles' results can be told apart from where they ran.

Pure. A comparison of swprofiles is also a comparison of the SUTs they ran
on: if baseline always ran on one machine and candidate on another, a change
may be the machines'. Two checks, over the sessions compared:

- placement: every SUT should have run each swprofile in the same share of
  its sessions (give or take one session);
- hardware: the SUTs should have equal fingerprints, once the fields that
  differ between any two machines (host names, serial numbers, MAC
  addresses, UUIDs) are left out, and memory is taken in whole GiB (the
  kernel's MemTotal moves by a few MB from one boot or kernel to the next).
"""

from __future__ import annotations

import json
import re

from fastpath.results.schema import digest

HOST_SPECIFIC = re.compile(r"host_?name|serial|mac(_?address)?$|uuid|machine_id|boot_id|hwaddr", re.I)


def comparable_fingerprint(fingerprint: str | dict | None) -> str:
    """A digest of a SUT fingerprint without its host-specific fields."""
    value = json.loads(fingerprint) if isinstance(fingerprint, str) else (fingerprint or {})

    def strip(v):
        if isinstance(v, dict):
            return {k: round(x / 2**20) if k == "memory_kb" and isinstance(x, int) else strip(x)
                    for k, x in v.items() if not HOST_SPECIFIC.search(k)}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    hw = strip(value.get("HW", value)) if isinstance(value, dict) else value
    return digest(hw)


def warnings(placement: dict[str, dict[str, int]], fingerprints: dict[str, str]) -> list[str]:
    """One line per problem. `placement`: swprofile -> SUT -> sessions, in the order compared;
    `fingerprints`: SUT -> its comparable fingerprint."""
    out: list[str] = []
    sws = [sw for sw, by_sut in placement.items() if by_sut]
    if len(sws) < 2:
        return out
    suts = sorted({sut for by_sut in placement.values() for sut in by_sut})
    if len(suts) > 1 and not _balanced([placement[sw] for sw in sws], suts):
        where = "; ".join(f"{sw} on " + ", ".join(f"{sut} x{n}" for sut, n in sorted(placement[sw].items()))
                          for sw in sws)
        out.append(f"Warning: unbalanced placement ({where}): a change may be the SUTs', not the "
                   "swprofiles'.")
    kinds = {sw: {fingerprints.get(sut, "") for sut in placement[sw]} for sw in sws}
    if len({fp for fps in kinds.values() for fp in fps}) > 1:
        groups: dict[str, list[str]] = {}
        for sut in suts:
            groups.setdefault(fingerprints.get(sut, ""), []).append(sut)
        listing = " | ".join(", ".join(g) for g in groups.values())
        out.append(f"Warning: the swprofiles ran on SUTs of different hardware ({listing}).")
    return out


def _balanced(counts: list[dict[str, int]], suts: list[str]) -> bool:
    """Each SUT's share of each swprofile's sessions agrees within one session."""
    for sut in suts:
        shares = [c.get(sut, 0) / sum(c.values()) for c in counts]
        slack = max(1 / sum(c.values()) for c in counts)
        if max(shares) - min(shares) > slack + 1e-9:
            return False
    return True
