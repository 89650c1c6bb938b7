"""The add-on's XML-RPC codec against the standard library's, value for value and byte for byte."""

from __future__ import annotations

import xmlrpc.client
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccu_addon.xmlrpc_codec import (
    Fault,
    XmlRpcError,
    dumps_call,
    dumps_fault,
    dumps_response,
    loads,
)

_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"))
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**31), 2**31 - 1)
    | st.floats(allow_nan=False)
    | _TEXT
    | st.binary(max_size=100)
    | st.datetimes(min_value=datetime(1000, 1, 1)).map(lambda d: d.replace(microsecond=0))
)
VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


# No deadline: the machines running the suite are shared, and timing is not what is tested.
LENIENT = settings(deadline=None)


def stdlib_loads(data: bytes) -> tuple[tuple[Any, ...], str | None]:
    return xmlrpc.client.loads(data, use_builtin_types=True)


@LENIENT
@given(st.lists(VALUES, max_size=4))
def test_a_call_is_encoded_as_the_standard_library_does(params: list[Any]) -> None:
    expected = xmlrpc.client.dumps(tuple(params), methodname="event", allow_none=True)
    assert dumps_call("event", params) == expected.encode()


@LENIENT
@given(VALUES)
def test_a_response_is_encoded_as_the_standard_library_does(value: Any) -> None:
    expected = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True)
    assert dumps_response(value) == expected.encode()


@LENIENT
@given(st.lists(VALUES, max_size=4))
def test_what_the_standard_library_encodes_is_read_alike(params: list[Any]) -> None:
    data = xmlrpc.client.dumps(tuple(params), methodname="system.multicall", allow_none=True)
    assert loads(data.encode()) == stdlib_loads(data.encode())


@LENIENT
@given(VALUES)
def test_round_trip(value: Any) -> None:
    params, method = loads(dumps_call("setValue", [value]))
    assert (params, method) == ((value,), "setValue")


def test_what_a_ccu_sends() -> None:
    """ISO-8859-1, untyped values, i4/i8, a namespaced nil, a struct of mixed members."""
    data = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<methodCall><methodName>event'
        "</methodName><params><param><value>BidCos-RF</value></param>"
        "<param><value><string>K\xfcche:1</string></value></param>"
        "<param><value><i4>-3</i4></value></param><param><value><i8>4294967296</i8></value>"
        "</param><param><value><ex:nil xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/"
        "extensions'/></value></param><param><value><struct><member><name>LEVEL</name>"
        "<value><double>0.5</double></value></member><member><name>T</name><value>"
        "<dateTime.iso8601>20261121T22:00:01</dateTime.iso8601></value></member></struct>"
        "</value></param><param><value></value></param></params></methodCall>"
    ).encode("latin-1")
    assert loads(data) == stdlib_loads(data)
    assert loads(data)[0][1] == "Küche:1"
    assert loads(data)[0][-1] == ""


def test_bigdecimal_is_read_as_the_standard_library_does() -> None:
    data = b"<methodResponse><params><param><value><bigdecimal>1.10</bigdecimal></value>"
    data += b"</param></params></methodResponse>"
    assert loads(data) == ((Decimal("1.10"),), None) == stdlib_loads(data)


def test_a_fault_response() -> None:
    data = dumps_fault(-2, "Unknown instance")
    fault = xmlrpc.client.Fault(-2, "Unknown instance")
    assert data == xmlrpc.client.dumps(fault, methodresponse=True).encode()
    with pytest.raises(Fault) as raised:
        loads(data)
    assert (raised.value.code, raised.value.string) == (-2, "Unknown instance")


@pytest.mark.parametrize(
    "data",
    [
        b"<kein xml",
        b"",
        (
            b"<methodResponse><params><param><value><array><data>"
            b"</data></value></param></params></methodResponse>"
        ),
        (
            b"<methodResponse><params><param><value><boolean>2</boolean></value></param></params>"
            b"</methodResponse>"
        ),
        (
            b"<methodResponse><params><param><value><int>zwei</int></value></param></params>"
            b"</methodResponse>"
        ),
        (
            b"<methodResponse><params><param><value><bogus>1</bogus></value></param></params>"
            b"</methodResponse>"
        ),
        b"<methodResponse><fault><value><string>x</string></value></fault></methodResponse>",
        b"<?xml version='1.0'?><nothing/>",
        # found by fuzzing (tests/reliability/corpus/ccu_xmlrpc): foreign errors before
        (
            b"<methodCall><params><param><value><dateTime.iso8601>202611T1002:00:00"
            b"</dateTime.iso8601></value></param></params></methodCall>"
        ),
        (
            b"<methodCall><params><param><value><base64>\xc3\xa4</base64></value></param>"
            b"</params></methodCall>"
        ),
        (
            b"<methodCall><params><param><value><base64>abc</base64></value></param>"
            b"</params></methodCall>"
        ),
        (
            b"<methodCall><params><param><value><bigdecimal>x</bigdecimal></value></param>"
            b"</params></methodCall>"
        ),
        b"<methodCall><params></array></params></methodCall>",
        (
            b"<methodCall><params><param><value><struct><member><name><struct></struct></name>"
            b"<value>1</value></member></struct></value></param></params></methodCall>"
        ),
    ],
)
def test_malformed_messages_are_value_errors(data: bytes) -> None:
    with pytest.raises(XmlRpcError):
        loads(data)


def test_values_xmlrpc_cannot_carry() -> None:
    with pytest.raises(OverflowError):
        dumps_response(2**31)
    with pytest.raises(TypeError):
        dumps_response({1: "a"})
    with pytest.raises(TypeError):
        dumps_response(object())
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(TypeError):
        dumps_response(looped)
