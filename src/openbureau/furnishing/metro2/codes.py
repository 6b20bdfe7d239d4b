"""Metro 2 code domains (fact sheet §6)."""

from __future__ import annotations

PORTFOLIO_TYPES = frozenset("CIMORL")
ACCOUNT_TYPES = frozenset(
    ["00", "01", "02", "03", "04", "05", "06", "07", "08", "0A", "0C", "0F", "0G", "10", "11",
     "12", "13", "15", "17", "18", "19", "20", "25", "26", "29", "2A", "2C", "37", "3A", "43",
     "47", "48", "4D", "50", "5A", "5B", "65", "66", "67", "68", "69", "6A", "6B", "6D", "70",
     "71", "72", "73", "74", "75", "77", "7A", "7B", "89", "8A", "8B", "90", "91", "92", "93",
     "95", "9A", "9B"]
)
ACCOUNT_STATUSES = (
    "05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88",
    "89", "93", "94", "95", "96", "97", "DA", "DF",
)
STATUSES_NEEDING_RATING = frozenset({"05", "13", "65", "88", "89", "94", "95"})
PAYMENT_RATINGS = frozenset("0123456GL")
PAYMENT_HISTORY_CHARS = "0123456BDEGHJKLZ "
# ECOA: the fact sheet's codes plus the CRRG ones (3 authorized user, 4 joint (obsolete),
# 7 maker, T association terminated). Confirm against CRRG.
ECOA_CODES = frozenset("123457TWXZ")
# National ID types the openbureau extension segment OB may carry (native codes, upper case).
EXTENSION_ID_TYPES = frozenset({"CN_RIC", "US_SSN"})
TERMS_FREQUENCIES = frozenset("DPWBEMLQTSY")
SPECIAL_COMMENTS = frozenset(
    ["B", "C", "H", "I", "M", "O", "S", "V", "AB", "AC", "AH", "AI", "AM", "AN", "AO", "AP",
     "AS", "AT", "AU", "AV", "AW", "AX", "AZ", "BA", "BB", "BC", "BD", "BE", "BF", "BG", "BH",
     "BI", "BJ", "BK", "BL", "BN", "BO", "BP", "BS", "BT", "CH", "CI", "CJ", "CK", "CL", "CM",
     "CN", "CO", "CP", "CS", "DE"]
)
# X-series compliance condition codes as published in the CRRG (the fact sheet only lists
# XB and XH). Confirm against CRRG.
COMPLIANCE_CONDITION_CODES = frozenset(["XA", "XB", "XC", "XD", "XE", "XF", "XG", "XH", "XJ", "XR"])
GENERATION_CODES = frozenset("JS23456789")
ADDRESS_INDICATORS = frozenset("CYNMSBUDP")
RESIDENCE_CODES = frozenset("OR")
INTEREST_TYPES = frozenset("FV")

DELINQUENT_STATUSES = frozenset({"71", "78", "80", "82", "83", "84"})
DEROGATORY_NEEDING_DOFD = frozenset({"93", "96", "97"})
CLOSED_STATUSES = frozenset({"13", "61", "62", "63", "64", "65"})
CHARGE_OFF_STATUSES = frozenset({"64", "97"})
