"""Plugin discovery and isolation: one fake installed distribution per failure mode."""

from __future__ import annotations

import pytest

from tests.core.fake_dists import install_fake_dists
from tradecore.errors import ManifestError
from tradecore.plugins import PluginControls, PluginError
from tradecore.runtime import Runtime

ALL_FAKES = {
    "ok": ("tradecore.indicators", "tradecore.sources"),
    "importerror": ("tradecore.sources",),
    "unavailable": ("tradecore.trainers",),
    "badhook": ("tradecore.indicators",),
    "typohook": ("tradecore.indicators",),
    "raises": ("tradecore.indicators",),
    "badspec": ("tradecore.indicators",),
    "clash": ("tradecore.indicators",),
}


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    install_fake_dists(tmp_path, monkeypatch, ALL_FAKES)
    return tmp_path


def fake_runtime(**controls) -> Runtime:
    """A runtime seeing only the built-ins and the fake distributions."""
    allow = controls.pop("allow", tuple(ALL_FAKES))
    return Runtime(controls=PluginControls(allow=allow, **controls))


def test_every_failure_mode_is_recorded_and_the_rest_keeps_working(fakes):
    rt = fake_runtime()
    registry = rt.registry
    records = rt.manager.records
    assert records["ok"].status == "active"
    assert records["ok"].distribution == "fakeplug-ok" and records["ok"].version == "1.2.3"
    assert records["importerror"].status == "failed" and records["importerror"].stage == "import"
    assert "a_module_that_does_not_exist" in records["importerror"].reason
    assert records["unavailable"].status == "unavailable"
    assert "needs somelib" in records["unavailable"].reason
    assert records["badhook"].status == "failed" and records["badhook"].stage == "register"
    assert records["typohook"].status == "failed" and "unknown hook 'tradecore_indicator'" in records["typohook"].reason
    assert records["raises"].status == "failed" and records["raises"].stage == "hook"
    assert "boom inside the hook" in records["raises"].reason
    assert records["badspec"].status == "failed" and records["badspec"].stage == "spec"
    assert "extra='forbid'" in records["badspec"].reason
    # everything else works: built-ins and the good plugin
    assert "synthetic" in registry.names("sources")
    assert "fake-source" in registry.names("sources")
    assert records["ok"].provides == {"sources": ["fake-source"], "indicators": ["fake-ok"]}
    # a failed registration leaves no residue in pluggy
    assert rt.manager.get_plugin("badhook") is None and rt.manager.get_plugin("typohook") is None


def test_module_in_several_groups_registers_once(fakes):
    rt = fake_runtime()
    record = rt.manager.records["ok"]
    assert set(record.groups) == {"tradecore.indicators", "tradecore.sources"}
    assert rt.manager.get_plugin("ok") is not None
    assert sum(1 for name, _ in rt.manager.list_name_plugin() if name == "ok") == 1


def test_clash_is_reported_and_qualified_name_resolves_it(fakes, manifest_factory):
    rt = fake_runtime()
    assert ("indicators", "fake-ok", ["clash", "ok"]) in [(k, n, sorted(p)) for k, n, p in rt.registry.clashes()]
    with pytest.raises(ManifestError) as err:
        rt.resolve(manifest_factory(indicators=[{"type": "fake-ok"}]))
    assert "several plugins" in str(err.value) and "ok/fake-ok" in str(err.value)
    resolved = rt.resolve(manifest_factory(indicators=[{"type": "ok/fake-ok", "params": {"period": 5}}]))
    assert resolved.indicators[0].plugin == "ok" and resolved.indicators[0].params.period == 5
    assert resolved.plugins["ok"] == "1.2.3"


def test_using_a_failed_plugins_component_carries_the_original_cause(fakes, manifest_factory):
    rt = fake_runtime()
    with pytest.raises(ManifestError) as err:
        rt.resolve(manifest_factory(source={"type": "importerror"}))
    message = str(err.value)
    assert "source.type" in message and "plugin 'importerror' failed at import" in message
    assert "a_module_that_does_not_exist" in message and "TRADECORE_STRICT_PLUGINS" in message
    with pytest.raises(ManifestError) as err:
        rt.resolve(manifest_factory(trainer={"type": "unavailable"}))
    assert "needs somelib" in str(err.value)


def test_disable_and_allow_list(fakes, manifest_factory):
    rt = fake_runtime(disable=("ok",))
    assert rt.manager.records["ok"].status == "disabled"
    assert "fake-source" not in rt.registry.names("sources")
    with pytest.raises(ManifestError) as err:
        rt.resolve(manifest_factory(source={"type": "ok/fake-source"}))
    assert "disabled" in str(err.value)
    # the allow-list takes distribution names too; built-ins are essential and always load
    rt = fake_runtime(allow=("fakeplug-raises",))
    rt.registry  # noqa: B018 - collecting calls the hooks
    assert rt.manager.records["raises"].status == "failed"
    assert rt.manager.records["ok"].status == "disabled"
    assert rt.manager.records["synthetic"].status == "active"


def test_strict_mode_reraises_with_traceback(fakes):
    with pytest.raises(PluginError) as err:
        fake_runtime(strict=True, allow=("importerror",))
    assert "Traceback" in str(err.value) and "a_module_that_does_not_exist" in str(err.value)


def test_trace_mode_logs_hook_calls(fakes, capsys):
    fake_runtime(trace=True, allow=("ok",)).registry  # noqa: B018 - collecting calls the hooks
    err = capsys.readouterr().err
    assert "[trace] tradecore_indicators <- ok" in err
    assert "[trace] tradecore_sources <- synthetic" in err


def test_controls_from_environment():
    env = {
        "TRADECORE_DISABLE_PLUGINS": "sb3, runpod",
        "TRADECORE_LOAD_PLUGINS": "",
        "TRADECORE_STRICT_PLUGINS": "1",
        "TRADECORE_TRACE_PLUGINS": "no",
    }
    controls = PluginControls.from_environment(env, disable=("ray",))
    assert controls.disable == ("sb3", "runpod", "ray")
    assert controls.allow == () and controls.strict and not controls.trace
    assert controls.blocked_reason("kraken", "tradecore-kraken") is not None
    assert PluginControls.from_environment({}).allow is None


def test_drop_in_plugin_directory(tmp_path, manifest_factory):
    (tmp_path / "my_rsi.py").write_text(
        "from pydantic import BaseModel, ConfigDict\n"
        "from tradecore import hookimpl\n"
        "from tradecore.specs import IndicatorSpec\n"
        "class P(BaseModel):\n"
        "    model_config = ConfigDict(extra='forbid')\n"
        "    period: int = 14\n"
        "class Impl:\n"
        "    def __init__(self, params): self.params = params\n"
        "@hookimpl\n"
        "def tradecore_indicators():\n"
        "    yield IndicatorSpec(name='dropin-rsi', description='research RSI', params=P, factory=Impl)\n"
    )
    (tmp_path / "broken.py").write_text("raise ValueError('half-written research file')\n")
    rt = Runtime(entrypoints=False, controls=PluginControls(plugin_dirs=(tmp_path,)))
    assert rt.manager.records["my_rsi"].origin == "directory"
    assert rt.manager.records["broken"].status == "failed"
    resolved = rt.resolve(manifest_factory(indicators=[{"type": "dropin-rsi", "params": {"period": 7}}]))
    assert resolved.indicators[0].build().params.period == 7


def test_embedded_plugin_object_without_packaging(manifest_factory):
    from pydantic import BaseModel, ConfigDict

    from tradecore import hookimpl
    from tradecore.specs import SourceSpec

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        rows: int = 10

    class MyPlugin:
        name = "my-embedded"

        @hookimpl
        def tradecore_sources(self):
            yield SourceSpec(
                name="in-memory",
                description="rows from my notebook",
                params=Params,
                factory=lambda params: ("built", params.rows),
            )

    rt = Runtime(plugins=[MyPlugin()], entrypoints=False)
    resolved = rt.resolve(manifest_factory(source={"type": "in-memory", "params": {"rows": 3}}))
    assert resolved.source.build() == ("built", 3)
    assert rt.manager.records["my-embedded"].origin == "embedded"
    # registering after the registry was built invalidates it
    other = Runtime(entrypoints=False)
    assert "in-memory" not in other.registry.names("sources")
    other.register(MyPlugin())
    assert "in-memory" in other.registry.names("sources")


def test_runtimes_share_no_state():
    a, b = Runtime(entrypoints=False), Runtime(entrypoints=False)
    assert a.manager is not b.manager and a.registry is not b.registry
    a.manager.records["synthetic"].status = "failed"
    assert b.manager.records["synthetic"].status == "active"
