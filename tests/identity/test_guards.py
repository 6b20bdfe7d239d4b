"""Unit tests of the anti-mixing guards on normalised record pairs."""

from __future__ import annotations

from openbureau.identity.guards import (
    common_name_corroborated,
    corroborated,
    distinct_names,
    given_name_conflict,
    is_twin_like,
    names_agree,
    suffix_unconfirmed,
    twin_given_names_differ,
)
from openbureau.identity.normalize import normalize_record


def rec(**kw):
    return dict(normalize_record({"record_id": "x", **kw}))


HOME = dict(address="4667 Washington Ave, Salem OR", postcode="97334", phone="691-458-2950")


def test_distinct_names_needs_two_established_spellings():
    assert distinct_names("mary", "mark", 900, 400)
    assert distinct_names("wei", "lei", 4000, 180)  # 1 : 22, both real names
    assert not distinct_names("mary", "mry", 900, 9)  # a typo: 1% of the name's records
    assert not distinct_names("mary", "mark", 2, 2)  # too few records to tell
    assert not distinct_names("mary", "mark", None, None)  # online: unknown
    assert not distinct_names("mary", "mary", 900, 900)


def test_twin_names_one_letter_apart_differ_only_when_both_are_names():
    assert twin_given_names_differ("mary", "mark", 900, 400)
    assert not twin_given_names_differ("mary", "mark")  # no frequencies: could be a typo
    assert not twin_given_names_differ("james", "jmaes")  # adjacent swap = one typo
    assert not twin_given_names_differ("patricia", "particia", 900, 9)
    assert twin_given_names_differ("weiping", "weifang")
    a = rec(full_name="Mary Smith", dob="1984-04-19", **HOME)
    b = rec(full_name="Mark Smith", dob="1984-04-19", **HOME)
    assert not is_twin_like(a, b)
    a["given_full_freq"], b["given_full_freq"] = 900, 400
    assert is_twin_like(a, b)
    assert given_name_conflict(a, b)


def test_shared_phone_corroborates_only_the_same_names():
    wife = rec(full_name="王伟", dob="1962-11-22", **HOME)  # wang wei
    husband = rec(full_name="张伟燕", **HOME)  # zhang weiyan, no DOB
    assert not names_agree(wife, husband)
    assert not corroborated(wife, husband)
    same = rec(full_name="Wei Wang", **HOME)
    assert names_agree(wife, same) and corroborated(wife, same)
    typo = rec(full_name="Mary Smtih", **HOME)
    assert corroborated(rec(full_name="Mary Smith", **HOME), typo)
    # two real surnames one letter apart (yang / tang) are not a typo
    yang, tang = rec(full_name="Wei Yang", **HOME), rec(full_name="Wei Tang", **HOME)
    assert names_agree(yang, tang)
    yang["surname_freq"], tang["surname_freq"] = 3000, 500
    assert not names_agree(yang, tang) and not corroborated(yang, tang)


def test_suffix_on_one_record_needs_the_same_birth_date_or_id():
    son = rec(full_name="Elizabeth Brown Jr", dob="1985-03-23", **HOME)
    father = rec(full_name="Elizabeth Brown", **HOME)
    assert suffix_unconfirmed(son, father)
    assert not corroborated(son, father)  # the phone is shared, the suffix is not
    decade = rec(full_name="Elizabeth Brown", dob="1955-03-23", **HOME)
    assert suffix_unconfirmed(son, decade)  # 1955 vs 1985: one digit, still not confirmed
    assert not suffix_unconfirmed(son, rec(full_name="Elizabeth Brown", dob="1985-03-23"))
    with_id = dict(national_id="519-74-0995", id_country="US")
    assert not suffix_unconfirmed(
        rec(full_name="Elizabeth Brown Jr", **with_id), rec(full_name="Elizabeth Brown", **with_id)
    )
    assert not suffix_unconfirmed(son, rec(full_name="Elizabeth Brown Jr"))
    # neither carries a suffix, but the phone is shared with a suffix holder
    junior, senior = rec(full_name="Elizabeth Brown", dob="1985-03-23", **HOME), decade
    assert not suffix_unconfirmed(junior, senior)
    senior["generational_household"] = True
    assert suffix_unconfirmed(junior, senior)
    assert not suffix_unconfirmed(junior, {**senior, "dob": "19850323"})


def test_common_name_address_needs_the_same_house_number():
    a = rec(full_name="张伟", dob="1988-04-10", address="浙江省杭州市西湖区中山路512号")
    b = rec(full_name="张伟", dob="1988-04-10", address="浙江省杭州市西湖区中山路953号")
    assert not common_name_corroborated(a, b)
    c = rec(full_name="张伟", dob="1988-04-10", address="浙江省杭州市西湖区中山路512号")
    assert common_name_corroborated(a, c)
    # the same address text under two different postcodes is two places
    elsewhere = rec(
        full_name="张伟",
        dob="1988-04-10",
        address="浙江省杭州市西湖区中山路512号",
        postcode="238984",
    )
    assert not common_name_corroborated({**a, "postcode": "691840"}, elsewhere)


def test_name_order_swap_must_move_both_parts():
    john = rec(full_name="Jhn Thomas", dob="1997-05-08", **HOME)
    twin = rec(given_name="Thomas", surname="Tholmas", dob="1997-05-08", **HOME)
    assert given_name_conflict(john, twin)  # his twin Thomas Thomas, surname typo'd
    swapped = rec(given_name="Thomas", surname="Jhn", dob="1997-05-08", **HOME)
    assert not given_name_conflict(john, swapped)  # John Thomas in the wrong order
