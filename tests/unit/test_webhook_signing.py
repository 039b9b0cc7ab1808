"""Outgoing webhook signatures checked by the Standard Webhooks reference package, the receiver's side: every
message verifies with its endpoint's secret, with either secret while a rotation overlaps, and with no other; a
changed body or a replayed old timestamp does not."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from veo31.pipeline.webhook_signing import new_secret, signed_headers

BODY = json.dumps({"type": "generation.completed", "data": {"id": "abc", "video_url": "https://x/v"}}).encode()


def test_a_signed_message_verifies_with_its_secret_and_no_other() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and secret != new_secret()
    headers = signed_headers("msg_1", int(time.time()), BODY, [secret])
    assert Webhook(secret).verify(BODY, headers)["data"]["id"] == "abc"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"abc", b"abd"), headers)


def test_during_a_rotation_both_secrets_verify() -> None:
    old, new = new_secret(), new_secret()
    headers = signed_headers("msg_2", int(time.time()), BODY, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)


def test_an_old_timestamp_is_refused_by_the_receiver() -> None:
    secret = new_secret()
    headers = signed_headers("msg_3", int(time.time()) - 3600, BODY, [secret])
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)
