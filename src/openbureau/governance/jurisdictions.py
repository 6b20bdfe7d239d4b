"""Jurisdiction profiles: which permissible purposes a deployment accepts.

The purposes are data, one table per jurisdiction (see ../shared rules sheet, section b).
A hard inquiry is one a consumer's own credit application caused; it shows on reports
to lenders. Soft inquiries (reviews, self-checks, rate quotes) show only to the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Purpose:
    code: str
    hard: bool
    description: str
    legal_basis: str


@dataclass(frozen=True)
class JurisdictionProfile:
    code: str
    name: str
    purposes: tuple[Purpose, ...]

    def purpose(self, code: str) -> Purpose | None:
        return next((p for p in self.purposes if p.code == code), None)

    @property
    def purpose_codes(self) -> list[str]:
        return [p.code for p in self.purposes]


PROFILES: dict[str, JurisdictionProfile] = {
    "CN": JurisdictionProfile(
        "CN",
        "People's Republic of China",
        (
            Purpose("loan_approval", True, "Loan application", "Reg. 18 written consent"),
            Purpose("credit_card_approval", True, "Credit card application", "Reg. 18"),
            Purpose("guarantor_check", True, "Checking a guarantor", "Reg. 18"),
            Purpose("post_loan_management", False, "Managing an existing loan", "Reg. 18"),
            Purpose("dispute_check", False, "Investigating a dispute", "Reg. 25"),
        ),
    ),
    "US": JurisdictionProfile(
        "US",
        "United States (FCRA)",
        (
            Purpose("credit_transaction", True, "Extending credit", "15 USC 1681b(a)(3)(A)"),
            Purpose("account_review", False, "Reviewing an account", "1681b(a)(3)(A)"),
            Purpose("collection", False, "Collecting an account", "1681b(a)(3)(A)"),
            Purpose("employment", False, "Employment, with authorization", "1681b(a)(3)(B)"),
            Purpose("insurance_underwriting", False, "Insurance underwriting", "1681b(a)(3)(C)"),
            Purpose("consumer_instruction", False, "Consumer's written instruction", "1681b(a)(2)"),
            Purpose("business_transaction", True, "Consumer-initiated business", "1681b(a)(3)(F)"),
        ),
    ),
    "EU-DE": JurisdictionProfile(
        "EU-DE",
        "Germany (GDPR, Code of Conduct)",
        (
            Purpose("credit_application", True, "Kreditanfrage", "GDPR Art 6(1)(f)"),
            Purpose("rate_quote", False, "Konditionsanfrage, not scored", "GDPR Art 6(1)(f)"),
            Purpose("account_review", False, "Existing credit relationship", "GDPR Art 6(1)(f)"),
            Purpose("leasing_application", True, "Leasing application", "GDPR Art 6(1)(f)"),
        ),
    ),
}


def profile_for(code: str) -> JurisdictionProfile:
    return PROFILES[code]
