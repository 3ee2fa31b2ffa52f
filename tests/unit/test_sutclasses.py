"""Parsing --sutclasses: the guide's file works; every mistake is named precisely."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from fastpath.core.sutclass import parse, refusal_stands
from fastpath.errors import InputError


@pytest.fixture
def key(tmp_path) -> Path:
    path = tmp_path / "id_ed25519"
    path.write_text("not read by the parser")
    return path


def guide(key) -> list:
    return [{"sutclass": "demo", "type": "static", "params": {"suts": [
        {"name": f"demo-0{i}", "connection": {"method": "SSH", "params": {
            "host": f"demo-0{i}", "user": "fpuser", "keyfile": str(key)}}} for i in (1, 2)]}}]


def load(doc, tmp_path):
    return parse(yaml.safe_dump(doc), source="sutclasses.yaml", base=tmp_path)


def test_the_guides_file(key, tmp_path):
    [cls] = load(guide(key), tmp_path)
    assert cls.name == "demo" and cls.provider == "static"
    assert [s.name for s in cls.suts] == ["demo-01", "demo-02"]
    sut = cls.suts[0]
    assert (sut.host, sut.port, sut.user, sut.keyfile) == ("demo-01", 22, "fpuser", str(key))
    assert cls.params["boot"] == "kexec" and cls.params["boot_timeout"] == 600.0
    assert cls.params["container_runtime"] == "docker"
    assert (cls.params["lease_duration"], cls.params["lease_max_duration"]) == (4 * 3600.0, 24 * 3600.0)
    assert cls.params["lessee_keys_on_own_host"] is False and cls.params["authorized_keys"] is None


@pytest.mark.parametrize(("params", "reset"), [
    ({"boot": "none"}, "none"),
    ({"boot": "kexec"}, "reboot"),
    ({"boot": "reboot"}, "reboot"),
    ({"boot": "kexec", "power_cycle": ["pdu", "{name}"]}, "power_cycle"),
    ({"boot": "power_cycle", "power_cycle": ["pdu", "{name}"]}, "power_cycle"),
    ({"boot": "none", "power_cycle": ["pdu", "{name}"]}, "none"),
    ({"boot": "kexec", "reset": "none"}, "none"),
    ({"boot": "none", "reset": "reboot"}, "reboot"),
])
def test_reset_after_a_lease_defaults_from_the_boot(params, reset, key, tmp_path):
    doc = guide(key)
    doc[0]["params"].update(params)
    [cls] = load(doc, tmp_path)
    assert cls.params["reset"] == reset and cls.suts[0].params["reset"] == reset


def test_lease_limits_are_durations(key, tmp_path):
    doc = guide(key)
    doc[0]["params"].update(lease_duration="30m", lease_max_duration="2h",
                            authorized_keys="/etc/ssh/keys/fpuser", lessee_keys_on_own_host=True)
    [cls] = load(doc, tmp_path)
    assert (cls.params["lease_duration"], cls.params["lease_max_duration"]) == (1800.0, 7200.0)
    assert cls.params["authorized_keys"] == "/etc/ssh/keys/fpuser"
    assert cls.params["lessee_keys_on_own_host"] is True


def test_sut_overrides_class_params(key, tmp_path):
    doc = guide(key)
    doc[0]["params"].update(boot="power_cycle", power_cycle=["pdu", "cycle", "{name}"], boot_timeout="2m")
    doc[0]["params"]["suts"][1]["power_cycle"] = ["pdu", "cycle", "outlet-3"]
    [cls] = load(doc, tmp_path)
    assert cls.suts[0].params["power_cycle"] == ["pdu", "cycle", "{name}"]
    assert cls.suts[1].params["power_cycle"] == ["pdu", "cycle", "outlet-3"]
    assert cls.suts[1].params["boot_timeout"] == 120.0


def test_relative_keyfile_resolves_against_the_file(key, tmp_path):
    doc = guide(key)
    doc[0]["params"]["suts"][0]["connection"]["params"]["keyfile"] = key.name
    [cls] = load(doc, tmp_path)
    assert cls.suts[0].keyfile == str(key)


def _bad(doc_fn, path, words):
    return pytest.param(doc_fn, path, words, id=path or words)


def set_in(doc, path, value):
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


SUT0 = [0, "params", "suts", 0]
CONN0 = [*SUT0, "connection", "params"]

BAD = [
    (lambda d: {"sutclass": "x"}, "", "expected a list"),
    (lambda d: set_in(d, [0, "type"], "dynamic"), "[0].type", "unknown provider 'dynamic'"),
    (lambda d: set_in(d, [0, "sutclass"], "bad name!"), "[0].sutclass", "expected a name"),
    (lambda d: set_in(d, [0, "colour"], "red"), "[0].colour", "unknown field"),
    (lambda d: set_in(d, [0, "params", "boot"], "pxe"), "[0].params.boot", "expected one of"),
    (lambda d: set_in(d, [0, "params", "boot_timeout"], "soon"), "[0].params.boot_timeout", "duration"),
    (lambda d: set_in(d, [0, "params", "boot_timeout"], "30d"), "[0].params.boot_timeout", "between"),
    (lambda d: set_in(d, [0, "params", "lease_duration"], "a while"), "[0].params.lease_duration",
     "duration"),
    (lambda d: set_in(d, [0, "params", "lease_max_duration"], "0s"), "[0].params.lease_max_duration",
     "positive"),
    (lambda d: set_in(d, [0, "params", "lease_duration"], "2d"), "[0].params.lease_duration",
     "longer than lease_max_duration"),
    (lambda d: set_in(d, [0, "params", "authorized_keys"], "$(reboot)"), "[0].params.authorized_keys",
     "file path"),
    (lambda d: set_in(d, [0, "params", "reset"], "wipe"), "[0].params.reset", "expected one of"),
    (lambda d: set_in(d, [0, "params", "reset"], "power_cycle"), "[0].params.reset",
     "needs a power_cycle command"),
    (lambda d: set_in(d, [0, "params", "lessee_keys_on_own_host"], "yes"),
     "[0].params.lessee_keys_on_own_host", "true or false"),
    (lambda d: set_in(d, [0, "params", "container_runtime"], "rm -rf /"),
     "[0].params.container_runtime", "command name"),
    (lambda d: set_in(d, [0, "params", "boot"], "power_cycle"), "[0].params.suts[0].power_cycle",
     "needs a power_cycle command"),
    (lambda d: set_in(d, [0, "params", "power_cycle"], ["x", "{nope}"]), "[0].params.power_cycle",
     "unknown placeholder {nope}"),
    (lambda d: set_in(d, [*SUT0, "name"], "demo-02"), "[0].params.suts[1].name", "duplicate SUT"),
    (lambda d: set_in(d, [*SUT0, "connection", "method"], "LAVA"), "[0].params.suts[0].connection.method",
     "only SSH"),
    (lambda d: set_in(d, [*CONN0, "host"], "a b"), "[0].params.suts[0].connection.params.host", "host"),
    (lambda d: set_in(d, [*CONN0, "port"], 70000), "[0].params.suts[0].connection.params.port", "port"),
    (lambda d: set_in(d, [*CONN0, "port"], True), "[0].params.suts[0].connection.params.port", "port"),
    (lambda d: set_in(d, [*CONN0, "user"], "$(reboot)"), "[0].params.suts[0].connection.params.user",
     "login name"),
    (lambda d: set_in(d, [*CONN0, "keyfile"], "/no/such/key"),
     "[0].params.suts[0].connection.params.keyfile", "no such file"),
    (lambda d: set_in(d, [*CONN0, "host_key"], "AAAA"),
     "[0].params.suts[0].connection.params.host_key", "public key"),
    (lambda d: set_in(d, [*SUT0, "maintenance"], "yes"), "[0].params.suts[0].maintenance", "true or false"),
    (lambda d: d + [copy.deepcopy(d[0])], "[1].sutclass", "duplicate SUT class"),  # no alias
]


@pytest.mark.parametrize("mutate, path, words", BAD, ids=[b[1] or b[2] for b in BAD])
def test_mistakes_are_named(mutate, path, words, key, tmp_path):
    with pytest.raises(InputError) as err:
        load(mutate(guide(key)), tmp_path)
    assert err.value.source == "sutclasses.yaml"
    assert err.value.path == path
    assert words in err.value.problem
    assert str(err.value).startswith(f"sutclasses.yaml: {path}" if path else "sutclasses.yaml")


@pytest.mark.parametrize("text", ["- [unclosed", "{a: 1}: x", "- sutclass: a\n  type: static\n\t- x"])
def test_malformed_yaml(text, tmp_path):
    with pytest.raises(InputError, match="malformed YAML"):
        parse(text, source="s.yaml", base=tmp_path)


def test_hostile_yaml_tags_are_refused(tmp_path):
    with pytest.raises(InputError, match="malformed YAML"):
        parse("- !!python/object/apply:os.system ['true']", source="s.yaml", base=tmp_path)


def test_empty_file_declares_nothing(tmp_path):
    assert parse("", source="s.yaml", base=tmp_path) == []


@pytest.mark.parametrize("refused,params,stands", [
    (None, {"boot": "reboot"}, False),
    ("reset:reboot", {"boot": "reboot"}, True),
    ("reset:reboot", {"boot": "reboot", "reset": "none"}, False),  # the admin's fix
    ("boot_back:reboot", {"boot": "none"}, True),  # a boot: none class cannot boot back here
    ("boot_back:reboot", {"boot": "none", "power_cycle": ["pdu", "{name}"]}, False),
    ("reset:power_cycle", {"boot": "none", "reset": "power_cycle"}, True),
])
def test_a_refused_reset_stands_until_the_classs_method_changes(refused, params, stands):
    assert refusal_stands(refused, params) is stands


def test_a_registry_of_the_labs_own_is_a_host_and_port(key, tmp_path):
    doc = guide(key)
    [cls] = load(doc, tmp_path)
    assert cls.params["registry"] is None  # images are never pulled
    doc[0]["params"]["registry"] = "registry.lab:5000"
    [cls] = load(doc, tmp_path)
    assert cls.suts[0].params["registry"] == "registry.lab:5000"
    doc[0]["params"]["registry"] = "https://x/y"
    with pytest.raises(InputError, match=r"params\.registry: expected a registry host\[:port\]"):
        load(doc, tmp_path)
