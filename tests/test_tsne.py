"""The t-SNE tool: which images it embeds, and its maps (when the optional extras are installed)."""


import pytest
from conftest import hide_package

from src.datasets.dataset import open_dataset
from src.datasets.records import INFRARED, VISIBLE, ImageRecord
from tools import tsne


def test_identities_need_both_modalities_and_are_capped():
    records = [ImageRecord(f"{modality}/{pid}/{frame}.jpg", pid, 1, modality)
               for pid in range(1, 7) for modality in (VISIBLE, INFRARED) for frame in (3, 1, 2)
               if not (pid == 2 and modality == INFRARED)]
    chosen = tsne.choose_records(records, num_ids=4, per_id=2, seed=1)
    pids = sorted({r.pid for r in chosen})
    assert len(pids) == 4 and 2 not in pids
    for pid in pids:
        for modality in (VISIBLE, INFRARED):
            assert [r.path for r in chosen if (r.pid, r.modality) == (pid, modality)] == \
                [f"{modality}/{pid}/1.jpg", f"{modality}/{pid}/2.jpg"]
    assert tsne.choose_records(records, 4, 2, seed=1) == chosen
    assert len({r.pid for r in tsne.choose_records(records, 50, 1, seed=0)}) == 5


def test_sysu_test_images_cover_every_query_and_both_modalities(synthetic_sysu):
    reader = open_dataset("sysu", synthetic_sysu)
    images = reader.every_test_record(0)
    paths = {r.path for r in images}
    assert {r.path for r in reader.test_lists(0).query} <= paths
    assert {r.path for r in reader.test_lists(0).gallery} <= paths
    assert len(paths) == len(images)


def test_maps_of_the_shared_branch(tiny_model, tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    out = tmp_path / "tsne.png"
    assert tsne.main(["--out", str(out), "--config_path", tiny_model["config"], "--eval.checkpoint",
                      tiny_model["checkpoint"], "--ids", "4", "--per_id", "3", "--eval.flip_tta", "false"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 2 t-SNE maps (shared branch, v (24 images, 4 ids); shared branch, z (24 images, 4 ids))" in printed
    assert out.stat().st_size > 5000


def test_missing_extras_are_named_with_the_install_command(tiny_model, tmp_path, monkeypatch, capsys):
    hide_package(monkeypatch, "sklearn")
    assert tsne.main(["--out", str(tmp_path / "t.png"), "--config_path", tiny_model["config"],
                      "--eval.checkpoint", tiny_model["checkpoint"]]) == 2
    error = capsys.readouterr().err
    assert "t-SNE needs the optional package 'sklearn'" in error and "requirements-extra.txt" in error
