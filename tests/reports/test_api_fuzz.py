"""Fuzzing the HTTP API: whatever a client sends, the answer is a 2xx or a 4xx problem detail."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import jsonl_bytes, record
from openbureau.governance.members import Role

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
# Placeholders, mixed scripts and the seeded person's own values, so the probabilistic
# matcher (blocking keys, candidates, model) runs as well as the exact lookup.
NAMES = ["张伟", "ZHANG Wei", "Wei Zhang Jr", "N/A", "张 Wei", "TEST TEST"]
IDS = ["000-00-0000", "N/A", "123456789", record()["national_id"], "11010519491231002X"]
ADDRESSES = [record()["address"], "N/A", "1 Main St 90210", "杭州市 310000"]
PHONES = [record()["phone"], "000", "+86 138 0013 8000", "N/A"]
inquiry_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "identity": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {"full_name": st.one_of(st.text(max_size=30), st.sampled_from(NAMES))},
                    optional={
                        "national_id_type": st.sampled_from(["cn_ric", "us_ssn", "xx", ""]),
                        "national_id": st.one_of(st.text(max_size=40), st.sampled_from(IDS)),
                        "date_of_birth": st.one_of(st.text(max_size=12), st.just("1985-03-14")),
                        "address": st.one_of(st.text(max_size=60), st.sampled_from(ADDRESSES)),
                        "phone": st.one_of(st.text(max_size=20), st.sampled_from(PHONES)),
                    },
                ),
            ),
            "purpose": st.one_of(st.sampled_from(["loan_approval", "nope"]), json_values),
            "consent_reference": st.one_of(st.text(max_size=250), json_values),
        }
    ),
)


def _assert_problem_or_ok(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == response.status_code and body["title"]


@FUZZ
@given(body=inquiry_bodies)
def test_inquiry_endpoint_never_fails(client, members, body):
    if not hasattr(members, "lender_key"):
        _, members.lender_key = members.add("lender", Role.SUBSCRIBER)
        _, furnisher_key = members.add("seed", Role.FURNISHER)
        seeded = client.post(
            "/v1/submissions",
            files={"file": ("seed.jsonl", jsonl_bytes([record()]))},
            headers={"Authorization": f"Bearer {furnisher_key}"},
        )
        assert seeded.status_code == 201, seeded.text
    response = client.post(
        "/v1/inquiries", json=body, headers={"Authorization": f"Bearer {members.lender_key}"}
    )
    _assert_problem_or_ok(response)


@FUZZ
@given(
    data=st.binary(max_size=400),
    name=st.sampled_from(["f.jsonl", "f.csv", "f.parquet", "f.m2", "f", "../../etc/x"]),
)
def test_submission_endpoint_never_fails(client, members, data, name):
    if not hasattr(members, "furnisher_key"):
        _, members.furnisher_key = members.add("furnisher", Role.FURNISHER)
    payload = data if data else jsonl_bytes([record()])
    response = client.post(
        "/v1/submissions",
        files={"file": (name, payload)},
        headers={"Authorization": f"Bearer {members.furnisher_key}"},
    )
    _assert_problem_or_ok(response)


@FUZZ
@given(
    header=st.text(max_size=60),
    path=st.sampled_from(
        [
            "/v1/me",
            "/v1/purposes",
            "/v1/submissions",
            "/v1/submissions/1",
            "/v1/audit/verify",
            "/v1/submissions/abc",
            "/v1/nowhere",
        ]
    ),
)
def test_auth_and_paths_never_fail(client, header, path):
    try:
        response = client.get(path, headers={"Authorization": header})
    except UnicodeEncodeError:  # httpx refuses non-ASCII header values before sending
        return
    _assert_problem_or_ok(response)
