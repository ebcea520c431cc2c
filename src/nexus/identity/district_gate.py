"""The district gate (seed 001): no file updates a tenant until its district is verified.

A delivery's district claims are checked against the tenant's registered districts:
- an identifier the tenant also has (DESE county-district code, NCES id, account id) decides:
  equal accepts, different refuses — a code is stronger evidence than a name;
- otherwise the name, normalised (case, punctuation, and words such as "School District",
  "Public Schools", "PD", "R-II"), is compared with rapidfuzz against the district's name and
  aliases, and accepted at or above the district's threshold (default 85);
- a claim with nothing comparable is attributed to the district of its bundle or connection,
  which is the run's tenant.
Every claim of a delivery must pass.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from rapidfuzz import fuzz

from nexus.identity.districts import District, list_districts
from nexus.integration.connectors.base import DistrictClaim
from nexus.integration.gate import GateVerdict

_ROLES = {
    "county_district_code": "DESE county-district code",
    "nces_id": "NCES id",
    "account_id": "account id",
}
# Words that say "a school district" in one source's spelling and not in another's.
_GENERIC = {
    "school",
    "schools",
    "district",
    "districts",
    "public",
    "pd",
    "sd",
    "isd",
    "usd",
    "the",
    "of",
    "consolidated",
    "unified",
    "community",
}
_MISSOURI_CLASS = re.compile(r"\b(r|c)[\s.-]*([ivxlc]+|\d+)\b", re.IGNORECASE)


def normalise_name(name: str) -> str:
    """'Belleville Public Schools', 'BELLEVILLE SCHOOL DISTRICT', 'Belleville PD': 'belleville'."""
    text = _MISSOURI_CLASS.sub(" ", name)
    text = re.sub(r"[^\w\s]", " ", text.lower())
    words = [w for w in text.split() if w not in _GENERIC]
    return " ".join(words)


def _same_identifier(role: str, a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if role in ("county_district_code", "nces_id") and a.isdigit() and b.isdigit():
        return int(a) == int(b)
    return a.lower() == b.lower()


def _judge(claim: DistrictClaim, registered: list[District]) -> tuple[bool, str, dict]:
    for role, label in _ROLES.items():
        value = claim.identifiers.get(role)
        known = [(d, getattr(d, role)) for d in registered if getattr(d, role)]
        if not value or not known:
            continue
        for district, mine in known:
            if _same_identifier(role, value, mine):
                return (
                    True,
                    f"{label} {value} is {district.name}'s",
                    {"method": "identifier", "role": role, "value": value},
                )
        theirs = ", ".join(sorted({m for _, m in known}))
        return (
            False,
            f"the file's {label} {value} is not this tenant's ({theirs})",
            {"method": "identifier", "role": role, "value": value},
        )
    if claim.name:
        wanted = normalise_name(claim.name)
        best, best_name, threshold = -1.0, "", 100
        for district in registered:
            for candidate in (district.name, *district.aliases):
                score = fuzz.token_sort_ratio(wanted, normalise_name(candidate))
                if score > best:
                    best, best_name, threshold = score, candidate, district.name_threshold
        detail = {
            "method": "name",
            "value": claim.name,
            "score": round(best, 1),
            "matched": best_name,
        }
        if best >= threshold:
            return True, f"district name {claim.name!r} matches {best_name!r}", detail
        return (
            False,
            (
                f"the file's district {claim.name!r} does not match {best_name!r} "
                f"(score {best:.0f} < {threshold}); if it is this district, register the name "
                f"with `nexus districts aliases add`"
            ),
            detail,
        )
    return (
        True,
        "no comparable district identifier: attributed to the run's tenant",
        {"method": "bundle"},
    )


def district_gate(conn: sa.Connection, tenant_id: int, claims: list[DistrictClaim]) -> GateVerdict:
    """Accept a delivery only if every district it names is one of the tenant's."""
    registered = list_districts(conn, tenant_id)
    if not registered:
        return GateVerdict(True, "the tenant has no registered district", {"method": "none"})
    reasons, details = [], []
    for claim in claims:
        accepted, reason, detail = _judge(claim, registered)
        details.append(detail)
        if not accepted:
            return GateVerdict(False, reason, {"claims": details})
        reasons.append(reason)
    return GateVerdict(True, "; ".join(dict.fromkeys(reasons)), {"claims": details})
