"""Tests for models.store (files on disk) and models.export (the registry export tool)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from models.export import EXPORT_FORMAT, export_model_file, main, registry_export
from models.store import (
    load_model,
    load_model_file,
    load_public_weights,
    save_model,
    save_public_weights,
)
from protocol.modelfile import (
    BadMagicError,
    TruncatedModelFileError,
    decode_public_weights,
    encode_model,
    model_file_hash,
)
from protocol.types import ZERO_HASH
from tests.unit.models.helpers import COMMITMENT, SETUP, random_model, sensitive_model

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = sensitive_model()
    path = tmp_path / "m.opzkmodel"
    digest = save_model(model, path)
    assert path.read_bytes() == encode_model(model)
    assert digest == model_file_hash(path.read_bytes())
    loaded = load_model_file(path)
    assert loaded.file_hash == digest and loaded.data == path.read_bytes()
    assert load_model(path).model_id() == model.model_id()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.opzkmodel"]  # no temporary left
    public_path = tmp_path / "m.opzkpub"
    save_public_weights(model, public_path)
    public = load_public_weights(public_path)
    assert public.model_id() == model.model_id() and public.layers[1] is None


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.opzkmodel"
    path.write_bytes(encode_model(random_model(0, (4, 3)))[:-1])
    with pytest.raises(TruncatedModelFileError, match=r"bad\.opzkmodel"):
        load_model(path)
    with pytest.raises(BadMagicError, match=r"bad\.opzkmodel"):
        load_public_weights(path)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.opzkmodel")


def test_save_refuses_invalid_models_and_writes_nothing(tmp_path: Path) -> None:
    model = random_model(0, (4, 3))
    broken = type(model)(layers=model.layers, partitions=(), input_scale=None)
    with pytest.raises(ValueError):
        save_model(broken, tmp_path / "x.opzkmodel")
    assert list(tmp_path.iterdir()) == []


def test_registry_export_of_a_sensitive_model() -> None:
    model = sensitive_model()
    data = encode_model(model)
    document = registry_export(data, model_file_name="s.opzkmodel", public_weights_name="s.opzkpub")
    assert document["format"] == EXPORT_FORMAT
    assert document["model_id"] == "0x" + model.model_id().hex()
    assert document["model_file_hash"] == "0x" + model_file_hash(data).hex()
    assert document["headers"][0] == {
        "in_dim": 12,
        "out_dim": 10,
        "multiplier": model.layers[0].multiplier,
        "shift": model.layers[0].shift,
        "activation": int(model.layers[0].activation),
    }
    assert document["weight_roots"][1] == document["weight_roots"][2] == "0x" + ZERO_HASH.hex()
    assert document["weight_roots"][0] == "0x" + model.weight_roots()[0].hex()
    assert document["partitions"][1] == {
        "first_layer": 2,
        "last_layer": 3,
        "sensitive": True,
        "weight_commitment": "0x" + COMMITMENT.hex(),
        "setup_id": "0x" + SETUP.hex(),
    }
    assert document["input_scale"] == 0.25 and document["output_scale"] is None
    json.dumps(document)  # JSON-ready


def test_export_command_writes_public_weights_and_registry_data(tmp_path: Path) -> None:
    model = sensitive_model()
    source = tmp_path / "demo.opzkmodel"
    save_model(model, source)
    out = tmp_path / "out"
    assert main([str(source), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["demo.opzkpub", "demo.registry.json"]
    public_bytes = (out / "demo.opzkpub").read_bytes()
    public = decode_public_weights(public_bytes)
    assert public.model_id() == model.model_id()
    document = json.loads((out / "demo.registry.json").read_text())
    assert document == registry_export(
        source.read_bytes(), model_file_name="demo.opzkmodel", public_weights_name="demo.opzkpub"
    )
    assert document["public_weights_hash"] == "0x" + model_file_hash(public_bytes).hex()
    again = export_model_file(source, out)
    assert (out / "demo.opzkpub").read_bytes() == public_bytes  # deterministic
    assert again.model_id == document["model_id"]


def test_export_command_refuses_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.opzkmodel"
    source.write_bytes(b"OPZKMDL\x02" + bytes(40))
    out = tmp_path / "out"
    assert main([str(source), "--out", str(out)]) == 1
    assert "version 2" in capsys.readouterr().err
    assert not out.exists()
    assert main([str(tmp_path / "missing.opzkmodel"), "--out", str(out)]) == 1


def test_export_runs_as_a_module(tmp_path: Path) -> None:
    source = tmp_path / "m.opzkmodel"
    save_model(random_model(3, (5, 4, 2)), source)
    result = subprocess.run(
        [sys.executable, "-m", "models.export", str(source), "--out", str(tmp_path / "o")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "model id" in result.stdout
    assert (tmp_path / "o" / "m.registry.json").exists()
