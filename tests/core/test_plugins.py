"""Plugin discovery and isolation: one fake installed distribution per failure mode."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.core.fake_dists import install_fake_dists
from tradecore.cli import cli
from tradecore.errors import ManifestError
from tradecore.plugins import PluginControls, PluginError
from tradecore.runtime import Runtime

ALL_FAKES = {
    "ok": ("tradecore", "tradecore.indicators"),  # the single group, plus a legacy one for older cores
    "legacy": ("tradecore.indicators", "tradecore.sources"),  # written before the single group
    "importerror": ("tradecore",),
    "unavailable": ("tradecore.trainers",),
    "badhook": ("tradecore",),
    "typohook": ("tradecore",),
    "raises": ("tradecore",),
    "badspec": ("tradecore",),
    "clash": ("tradecore",),
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
    for name, groups in (("ok", {"tradecore", "tradecore.indicators"}), ("legacy", LEGACY_GROUPS)):
        assert set(rt.manager.records[name].groups) == groups
        assert sum(1 for registered, _ in rt.manager.list_name_plugin() if registered == name) == 1


LEGACY_GROUPS = {"tradecore.indicators", "tradecore.sources"}


def test_legacy_groups_still_load_with_a_deprecation_notice_in_check_only(fakes):
    rt = fake_runtime()
    assert "fake-legacy" in rt.registry.names("indicators")
    assert set(rt.manager.records["legacy"].legacy_groups) == LEGACY_GROUPS
    assert rt.manager.records["ok"].legacy_groups == ()  # it declares "tradecore" too: nothing to warn about
    runner = CliRunner()
    checked = runner.invoke(cli, ["--only", "legacy,ok", "plugins", "--check"])
    assert checked.exit_code == 0, checked.output
    notices = [line for line in checked.stderr.splitlines() if line.startswith("deprecated:")]
    assert any("plugin 'legacy' (fakeplug-legacy)" in n and "[project.entry-points.tradecore]" in n for n in notices)
    assert not any("'ok'" in n for n in notices)
    listed = runner.invoke(cli, ["--only", "legacy,ok", "plugins"])
    assert listed.exit_code == 0 and "deprecated" not in listed.stderr


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


def test_strict_mode_reraises_a_raising_hook(fakes):
    with pytest.raises(PluginError) as err:
        fake_runtime(strict=True, allow=("raises",)).registry  # noqa: B018 - collecting calls the hooks
    assert "failed at hook" in str(err.value) and "boom inside the hook" in str(err.value)


def test_trace_mode_logs_hook_calls(fakes, capsys):
    fake_runtime(trace=True, allow=("ok", "raises")).registry  # noqa: B018 - collecting calls the hooks
    err = capsys.readouterr().err
    assert "[trace] tradecore_indicators <- ok" in err
    assert "[trace] tradecore_sources <- synthetic" in err
    assert "raises raised)" in err


def test_tracing_goes_through_pluggy():
    """Hook calls go through pluggy's hook execution (its monitoring sees each one) and our trace
    lines through pluggy's tracer, so a plugin author's ``enable_tracing()`` shows both."""
    rt = Runtime(entrypoints=False)
    lines: list[str] = []
    rt.manager.trace.root.setwriter(lines.append)
    rt.manager.enable_tracing()
    rt.registry  # noqa: B018 - collecting calls the hooks
    lines = [line.strip() for line in lines]
    assert "tradecore_reward_terms [hook]" in lines  # pluggy's own line for the call
    assert any(line.startswith("finish tradecore_reward_terms -->") for line in lines)
    assert any(line.startswith("tradecore_reward_terms <- standard-rewards (") for line in lines)


def indicator_plugin(name: str, **hook_options):
    """An embedded plugin registering one indicator called ``same`` (so plugins clash)."""
    from pydantic import BaseModel, ConfigDict

    from tradecore import hookimpl
    from tradecore.specs import IndicatorSpec

    class P(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class Plugin:
        @hookimpl(**hook_options)
        def tradecore_indicators(self):
            yield IndicatorSpec(name="same", description=f"from {name}", params=P, factory="x:y")

    Plugin.name = name
    return Plugin()


def test_tryfirst_and_trylast_order_the_calls():
    # pluggy calls the last registered first, unless tryfirst/trylast say otherwise
    plugins = [
        indicator_plugin("first", tryfirst=True),
        indicator_plugin("plain"),
        indicator_plugin("last", trylast=True),
    ]
    rt = Runtime(entrypoints=False, builtins=False, plugins=[plugins[2], plugins[0], plugins[1]])
    assert [name for name, _ in rt.manager.call_each("tradecore_indicators")] == ["first", "plain", "last"]
    assert rt.registry.clashes() == [("indicators", "same", ["first", "plain", "last"])]


def test_a_hook_wrapper_wraps_each_plugin_and_answers_for_its_own_failure():
    from tradecore import hookimpl

    class Counting:
        name = "counting"
        seen: list[int] = []

        @hookimpl(wrapper=True)
        def tradecore_indicators(self):
            specs = yield
            self.seen.append(len(specs))
            return specs

    class Raising:
        name = "raising-wrapper"

        @hookimpl(wrapper=True)
        def tradecore_indicators(self):
            yield
            raise RuntimeError("wrapper broke")

    counting = Runtime(
        entrypoints=False, builtins=False, plugins=[indicator_plugin("a"), indicator_plugin("b"), Counting()]
    )
    assert [name for name, _ in counting.manager.call_each("tradecore_indicators")] == ["b", "a"]
    assert Counting.seen == [1, 1]  # called once per plugin, around it

    raising = Runtime(entrypoints=False, plugins=[indicator_plugin("a"), Raising()])
    assert raising.manager.records["raising-wrapper"].status == "active"
    assert "same" in raising.registry.names("indicators")
    records = raising.manager.records
    assert records["raising-wrapper"].status == "failed" and "wrapper broke" in records["raising-wrapper"].reason
    assert records["a"].status == "active" and records["standard-indicators"].status == "active"
    assert "rsi" in raising.registry.names("indicators")  # the plugins it wrapped keep their components


def test_a_plugin_raising_inside_a_wrapper_is_the_one_that_failed(fakes):
    from tradecore import hookimpl

    class PassThrough:
        name = "pass-through"

        @hookimpl(wrapper=True)
        def tradecore_indicators(self):
            return (yield)

    rt = fake_runtime(allow=("raises", "ok"))
    rt.register(PassThrough())
    rt.registry  # noqa: B018 - collecting calls the hooks
    assert rt.manager.records["raises"].status == "failed" and rt.manager.records["raises"].stage == "hook"
    assert rt.manager.records["pass-through"].status == "active" and rt.manager.records["ok"].status == "active"


def test_tradecore_provenance_lists_the_plugins_a_run_used(fakes, manifest_factory):
    from tradecore import __version__
    from tradecore.runs.folder import environment_record

    rt = fake_runtime(allow=("ok", "legacy"))
    resolved = rt.resolve(manifest_factory(indicators=[{"type": "ok/fake-ok"}]))
    provenance = rt.provenance(resolved)
    assert set(provenance) == {"synthetic", "ok", "standard-rewards", "local"}  # not legacy: the run used none
    assert provenance["ok"] == {"distribution": "fakeplug-ok", "version": "1.2.3", "packages": {"fakelib": "9.9.9"}}
    assert provenance["synthetic"] == {"distribution": "tradecore", "version": __version__, "packages": {}}
    record = environment_record(provenance)
    assert record["plugins"] == provenance and record["packages"]["tradecore"]
    assert "stable-baselines3" not in record["packages"]  # the core names no plugin's dependencies


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
