"""Segment's naming rules: go-snakecase and the nickname-to-schema rule."""

from __future__ import annotations

import re

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klenty_wh.load.envelope import create_macros
from klenty_wh.plan.names import redshift_identifier, schema_from_nickname, schema_name_problem, snakecase

# The test vectors of segmentio/go-snakecase v1.2.0 (snake_test.go).
UPSTREAM_VECTORS = [
    ("sample text", "sample_text"),
    ("sample-text", "sample_text"),
    ("sample___text", "sample_text"),
    ("sampleText", "sample_text"),
    ("inviteYourCustomersAddInvites", "invite_your_customers_add_invites"),
    ("   $#$sample   2    Text   ", "sample_2_text"),
    ("SAMPLE 2 TEXT", "sample_2_text"),
    ("___$$Base64Encode", "base64_encode"),
    ("FOO:BAR$BAZ", "foo_bar_baz"),
    ("FOO#BAR#BAZ", "foo_bar_baz"),
    ("something.com", "something_com"),
    ("$something%", "something"),
    ("•¶§ƒ˚foo˙∆˚¬", "foo"),
    ("CStringRef", "cstring_ref"),
    ("5test", "5test"),
    ("5TEst", "5test"),
    ("_5TEst", "5test"),
    ("@%#&5TEst", "5test"),
    ("THE5r", "the5r"),
    ("samPLE text", "sam_ple_text"),
    ("edf_6N", "edf_6n"),
    ("f_pX9", "f_p_x9"),
    ("p_z9Rg", "p_z9_rg"),
    ("2FA Enabled", "2fa_enabled"),
    ("Enabled 2FA", "enabled_2fa"),
    ("@49L0S145_¬fwHƒ0TSLNVp", "49l0s145_fw_h_0tslnvp"),
    ("lk0B@bFmjrLQ_Z6YL", "lk0_b_b_fmjr_lq_z6yl"),
]

# Klenty's events and the edge cases that decide table and column names.
KLENTY_AND_EDGE_CASES = [
    ("Email Sent", "email_sent"),
    ("Email Opened", "email_opened"),
    ("Link Clicked", "link_clicked"),
    ("Email Replied", "email_replied"),
    ("Email Bounced", "email_bounced"),
    ("Email Unsubscribed", "email_unsubscribed"),
    ("fromId", "from_id"),
    ("URLClicked", "urlclicked"),
    ("HTMLParser", "htmlparser"),
    ("getHTTPResponseCode", "get_httpresponse_code"),
    ("userID", "user_id"),
    ("iOS App", "i_os_app"),
    ("fooBARBaz", "foo_barbaz"),
    ("v2Event", "v2_event"),
    ("123 Event", "123_event"),
    ("Email-Sent!", "email_sent"),
    ("Email Sent (v2)", "email_sent_v2"),
    ("A/B Test", "a_b_test"),
    ("Événement Créé", "v_nement_cr"),
    ("café opened", "caf_opened"),
    ("emoji 🚀 sent", "emoji_sent"),
    ("日本語", ""),
    ("", ""),
    ("   ", ""),
]


@pytest.mark.parametrize("name, expected", UPSTREAM_VECTORS + KLENTY_AND_EDGE_CASES)
def test_snakecase_matches_go_snakecase(name, expected):
    assert snakecase(name) == expected


@pytest.mark.parametrize("nickname, expected", [
    ("Klenty Prod", "klenty_prod"),
    ("SourceName_Prod", "sourcename_prod"),
    ("klenty-prod", "klenty_prod"),
    ("3 Klenty", "_3_klenty"),
    ("i'm gonna delete this", "im_gonna_delete_this"),
    ("Snowflake dbt Source (dupe)", "snowflake_dbt_source_dupe"),
    ("Kotlin (Android)", "kotlin_android"),
    ("BcNext_CustomEvent", "bcnext_customevent"),
    ("Shop - B2B", "shop_b2b"),
    ("DT-Drivetime.Com", "dt_drivetime_com"),
    ("APICS-3861 - v2", "apics_3861_v2"),
    ("iOS App", "ios_app"),
    ("HTTP API", "http_api"),
])
def test_schema_from_nickname(nickname, expected):
    assert schema_from_nickname(nickname) == expected


@pytest.mark.parametrize("name, problem", [
    ("klenty_prod", None),
    ("_3_klenty", None),
    ("Klenty", "must match"),
    ("klenty prod; drop", "must match"),
    ("3klenty", "must match"),
    ("a" * 64, "at most 63"),
])
def test_schema_name_rule(name, problem):
    found = schema_name_problem(name, "postgresql")
    if problem is None:
        assert found is None
    else:
        assert problem in found


@pytest.mark.parametrize("name, expected", [
    ("open", "_open"), ("123_event", "_123_event"), ("email_sent", "email_sent"), ("timestamp", "_timestamp"),
])
def test_redshift_prefix_rule(name, expected):
    assert redshift_identifier(name) == expected


@given(st.text())
def test_snakecase_output_is_identifier_shaped(name):
    result = snakecase(name)
    assert re.fullmatch(r"([a-z0-9]+(_[a-z0-9]+)*)?", result)


@given(st.text())
def test_snakecase_is_stable(name):
    once = snakecase(name)
    assert snakecase(once) == once


@pytest.fixture(scope="module")
def duck():
    connection = duckdb.connect()
    create_macros(connection)
    yield connection
    connection.close()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")))
def test_sql_snakecase_matches_python(duck, name):
    assert duck.execute("SELECT kwh_snake(?)", [name]).fetchone()[0] == snakecase(name)
