"""boto3 against the emulated AWS of fixtures/cloud/aws.yaml, as runbooks/aws-bedrock.md uses it:
STS AssumeRoleWithWebIdentity (unsigned, as botocore's model says), then Bedrock Runtime
InvokeModel, Converse and both streaming operations, signed with real SigV4 (service
`bedrock`) that the emulator verifies; and the refusals the runbook names, by error code."""

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "123456789012"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
# One attempt: a refusal must surface as it is, not after retries.
CONFIG = Config(region_name=REGION, retries={"max_attempts": 1, "mode": "standard"})
ANTHROPIC = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
             "messages": [{"role": "user", "content": "Say hello"}]}
CONVERSATION = [{"role": "user", "content": [{"text": "Say hello"}]}]


def sts(endpoint):
    return boto3.client("sts", endpoint_url=endpoint, config=CONFIG)


def assume(endpoint, token, role="BedrockUser", session="alice@example.com", **extra):
    return sts(endpoint).assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName=session,
        WebIdentityToken=token, **extra)


def bedrock(endpoint, credentials):
    return boto3.client(
        "bedrock-runtime", endpoint_url=endpoint, config=CONFIG,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"])


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def aws(lab):
    return lab.clouds.aws


@pytest.fixture(scope="module")
def alice(lab, aws):
    return assume(aws, lab.id_token("alice"), DurationSeconds=900)["Credentials"]


def test_assume_role_with_web_identity(lab, aws):
    answer = assume(aws, lab.id_token("alice"), DurationSeconds=900)
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/BedrockUser/alice@example.com"
    assert answer["Audience"] == "acme-app"
    assert answer["Provider"] == lab.issuer
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")
    # Asked for 900 s: botocore parses the Expiration timestamp.
    remaining = answer["Credentials"]["Expiration"] - datetime.now(timezone.utc)
    assert timedelta(0) < remaining <= timedelta(seconds=900)


def test_invoke_model(aws, alice):
    answer = bedrock(aws, alice).invoke_model(
        modelId=SONNET, body=json.dumps(ANTHROPIC), contentType="application/json", accept="application/json")
    message = json.loads(answer["body"].read())
    assert message["type"] == "message"
    assert message["model"] == "claude-3-5-sonnet-20240620"
    assert "assumed-role/BedrockUser/alice@example.com" in message["content"][0]["text"]


def test_converse(aws, alice):
    answer = bedrock(aws, alice).converse(modelId=SONNET, messages=CONVERSATION)
    assert answer["output"]["message"]["role"] == "assistant"
    assert answer["stopReason"] == "end_turn"
    assert answer["usage"]["totalTokens"] == answer["usage"]["inputTokens"] + answer["usage"]["outputTokens"]


def test_invoke_model_with_response_stream(aws, alice):
    answer = bedrock(aws, alice).invoke_model_with_response_stream(modelId=SONNET, body=json.dumps(ANTHROPIC))
    # botocore checks each frame's prelude and message CRC32s and base64-decodes `bytes`.
    events = [json.loads(event["chunk"]["bytes"]) for event in answer["body"]]
    kinds = [event["type"] for event in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text.startswith("Hello from the ssoproof Bedrock emulator") and SONNET in text
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] > 0


def test_converse_stream(aws, alice):
    answer = bedrock(aws, alice).converse_stream(modelId=SONNET, messages=CONVERSATION)
    events = list(answer["stream"])
    kinds = [next(iter(event)) for event in events]
    assert kinds[0] == "messageStart" and events[0]["messageStart"]["role"] == "assistant"
    assert kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert set(kinds[1:-3]) == {"contentBlockDelta"}
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text.startswith("Hello from the ssoproof Bedrock emulator")
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"]["totalTokens"] > 0


# The runbook's refusals, each by its code.

def test_duration_above_maximum_is_validation_error(lab, aws):
    with pytest.raises(ClientError) as excinfo:
        assume(aws, lab.id_token("alice"), DurationSeconds=7200)
    assert error_code(excinfo) == "ValidationError"
    assert "exceeds the MaxSessionDuration" in str(excinfo.value)


def test_model_not_covered_is_access_denied(lab, aws):
    haiku_only = assume(aws, lab.id_token("alice"), role="HaikuOnly")["Credentials"]
    client = bedrock(aws, haiku_only)
    client.invoke_model(modelId=HAIKU, body=json.dumps(ANTHROPIC))
    with pytest.raises(ClientError) as excinfo:
        client.invoke_model(modelId=SONNET, body=json.dumps(ANTHROPIC))
    assert error_code(excinfo) == "AccessDeniedException"
    assert "bedrock:InvokeModel on resource" in str(excinfo.value)


def test_streaming_without_its_permission_is_access_denied(lab, aws):
    # HaikuOnly may call bedrock:InvokeModel, not bedrock:InvokeModelWithResponseStream.
    client = bedrock(aws, assume(aws, lab.id_token("alice"), role="HaikuOnly")["Credentials"])
    with pytest.raises(ClientError) as excinfo:
        client.converse_stream(modelId=HAIKU, messages=CONVERSATION)
    assert error_code(excinfo) == "AccessDeniedException"
    assert "bedrock:InvokeModelWithResponseStream" in str(excinfo.value)
    with pytest.raises(ClientError) as excinfo:
        client.invoke_model_with_response_stream(modelId=HAIKU, body=json.dumps(ANTHROPIC))
    assert error_code(excinfo) == "AccessDeniedException"


def test_a_wrong_secret_fails_sigv4(aws, alice):
    forged = dict(alice, SecretAccessKey="not-the-secret-" + alice["SecretAccessKey"][15:])
    with pytest.raises(ClientError) as excinfo:
        bedrock(aws, forged).converse(modelId=SONNET, messages=CONVERSATION)
    assert error_code(excinfo) == "InvalidSignatureException"


def test_a_tampered_token_is_invalid_identity_token(lab, aws):
    header, payload, signature = lab.id_token("alice").split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(ClientError) as excinfo:
        assume(aws, tampered)
    assert error_code(excinfo) == "InvalidIdentityToken"


def test_audience_condition_is_access_denied(lab):
    account = lab.changed_fixture("aws.yaml", ':aud": "acme-app"', ':aud": "other-client"')
    clouds = lab.start_clouds(aws=account)
    with pytest.raises(ClientError) as excinfo:
        assume(clouds.aws, lab.id_token("alice"))
    assert error_code(excinfo) == "AccessDenied"
    assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in str(excinfo.value)


def test_a_lab_issuer_fails_real_sts(lab):
    # --realistic: keys are fetched as from AWS, where a loopback issuer is unreachable.
    clouds = lab.start_clouds(aws="fixtures/cloud/aws.yaml", extra=["--realistic"])
    with pytest.raises(ClientError) as excinfo:
        assume(clouds.aws, lab.id_token("alice"))
    assert error_code(excinfo) == "InvalidIdentityToken"
    assert "Couldn't retrieve verification key from your identity provider" in str(excinfo.value)
