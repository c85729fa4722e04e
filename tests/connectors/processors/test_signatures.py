import base64
import hashlib
import hmac
import json
from typing import Any

from connectors.processors import adyen, gocardless, stripe

BODY = b'{"id":"evt_1","type":"charge.succeeded"}'
NOW = 1_700_000_000


def stripe_header(body: bytes, secret: str, t: int = NOW) -> str:
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


def test_stripe_valid_signature_accepted() -> None:
    assert stripe.verify(BODY, stripe_header(BODY, "whsec_a"), ["whsec_a"], clock=lambda: NOW)


def test_stripe_tampered_body_rejected() -> None:
    header = stripe_header(BODY, "whsec_a")
    assert not stripe.verify(BODY + b" ", header, ["whsec_a"], clock=lambda: NOW)


def test_stripe_stale_timestamp_rejected() -> None:
    header = stripe_header(BODY, "whsec_a", t=NOW - 301)
    assert not stripe.verify(BODY, header, ["whsec_a"], clock=lambda: NOW)
    assert stripe.verify(BODY, header, ["whsec_a"], tolerance_seconds=600, clock=lambda: NOW)


def test_stripe_rotated_secrets() -> None:
    old = stripe_header(BODY, "whsec_old")
    new_sig = stripe_header(BODY, "whsec_new").split(",")[1]
    both = f"{old},{new_sig}"
    assert stripe.verify(BODY, both, ["whsec_new"], clock=lambda: NOW)
    assert stripe.verify(BODY, old, ["whsec_new", "whsec_old"], clock=lambda: NOW)
    assert not stripe.verify(BODY, old, ["whsec_other"], clock=lambda: NOW)


def test_stripe_malformed_header_rejected() -> None:
    assert not stripe.verify(BODY, "garbage", ["whsec_a"], clock=lambda: NOW)


def test_gocardless_signature() -> None:
    sig = hmac.new(b"gc_secret", BODY, hashlib.sha256).hexdigest()
    assert gocardless.verify(BODY, sig, "gc_secret")
    assert not gocardless.verify(BODY + b"x", sig, "gc_secret")
    assert not gocardless.verify(BODY, sig, "other")


HEX_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"


def adyen_item(value: int, sign: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pspReference": "7914073381342284",
        "merchantAccountCode": "TestMerchant",
        "merchantReference": "INV-1001",
        "amount": {"value": value, "currency": "EUR"},
        "eventCode": "AUTHORISATION",
        "success": "true",
        "additionalData": {},
    }
    if sign:
        payload = f"7914073381342284::TestMerchant:INV-1001:{value}:EUR:AUTHORISATION:true"
        digest = hmac.new(bytes.fromhex(HEX_KEY), payload.encode(), hashlib.sha256).digest()
        item["additionalData"]["hmacSignature"] = base64.b64encode(digest).decode()
    return item


def test_adyen_each_item_verified() -> None:
    good = {"notificationItems": [{"NotificationRequestItem": adyen_item(1000)}]}
    assert adyen.verify_notification(json.loads(json.dumps(good)), [HEX_KEY])
    tampered = adyen_item(1000)
    tampered["amount"]["value"] = 1
    mixed = {
        "notificationItems": [
            {"NotificationRequestItem": adyen_item(1000)},
            {"NotificationRequestItem": tampered},
        ]
    }
    assert not adyen.verify_notification(mixed, [HEX_KEY])
    unsigned = {"notificationItems": [{"NotificationRequestItem": adyen_item(5, sign=False)}]}
    assert not adyen.verify_notification(unsigned, [HEX_KEY])
    assert not adyen.verify_notification({"notificationItems": []}, [HEX_KEY])


def test_adyen_published_test_vector() -> None:
    # the sample item, key and signature of Adyen's HMAC documentation and libraries
    item = {
        "pspReference": "7914073381342284",
        "merchantReference": "TestPayment-1407325143704",
        "merchantAccountCode": "TestMerchant",
        "amount": {"currency": "EUR", "value": 1130},
        "eventCode": "AUTHORISATION",
        "success": "true",
        "additionalData": {"hmacSignature": "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="},
    }
    assert adyen.signing_payload(item) == (
        "7914073381342284::TestMerchant:TestPayment-1407325143704:1130:EUR:AUTHORISATION:true"
    )
    assert adyen.verify_item(item, [HEX_KEY])
    assert adyen.verify_item(item, [HEX_KEY.lower()])  # hex is hex, whatever its case
    assert not adyen.verify_item({**item, "success": "false"}, [HEX_KEY])


def test_adyen_colons_and_backslashes_are_signed_as_sent() -> None:
    # Adyen's library vectors: a merchantReference with ':' or '\\' is not escaped
    key = "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"
    base = {
        "amount": {"currency": "EUR", "value": 1000},
        "eventCode": "AUTHORISATION",
        "merchantAccountCode": "AntoniStroinski",
        "success": "true",
    }
    colon = {
        **base,
        "merchantReference": ":slashes are fun",
        "pspReference": "M8NB66SBZSGLNK82",
        "additionalData": {"hmacSignature": "2EQYm7YJpKO4EtHSPu55SQTyWf8dkW5u2nD1tJFpViA="},
    }
    backslash = {
        **base,
        "merchantReference": "\\\\slashes are fun",
        "pspReference": "T7FD4VM4D3RZNN82",
        "additionalData": {"hmacSignature": "nIgT81gaB5oJpn2jPXupDq68iRo2wUlBsuYjtYfwKqo="},
    }
    assert adyen.verify_item(colon, [key]) and adyen.verify_item(backslash, [key])


def test_forged_non_ascii_or_malformed_signatures_are_false_not_errors() -> None:
    # compare_digest raises TypeError on a non-ASCII str: a forger must get a refusal, not a 500
    sig = stripe_header(BODY, "whsec_a").split("v1=")[1]
    assert not stripe.verify(BODY, f"t={NOW},v1=\u00e9{sig[1:]}", ["whsec_a"], clock=lambda: NOW)
    assert not gocardless.verify(BODY, "\u00e9" * 64, "gc_secret")
    item = adyen_item(1000)
    item["additionalData"]["hmacSignature"] = "\u00e9=="
    assert not adyen.verify_item(item, [HEX_KEY])
    assert not adyen.verify_item({**item, "additionalData": {"hmacSignature": 7}}, [HEX_KEY])
    assert not adyen.verify_notification({"notificationItems": "x"}, [HEX_KEY])
    assert not adyen.verify_notification({"notificationItems": [None]}, [HEX_KEY])


def test_stripe_header_spacing_v0_and_several_v1() -> None:
    good = stripe_header(BODY, "whsec_a").split("v1=")[1]
    header = f"t={NOW}, v1={'0' * 64}, v1={good}, v0={'1' * 64}"
    assert stripe.verify(BODY, header, ["whsec_a"], clock=lambda: NOW)
    assert not stripe.verify(BODY, f"t={NOW}, v0={good}", ["whsec_a"], clock=lambda: NOW)
