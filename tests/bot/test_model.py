from bot.model import MODEL_INPUTS, fingerprint


def test_fingerprint_follows_the_training_inputs(tmp_path):
    for name in MODEL_INPUTS:
        path = tmp_path / name
        if name.endswith((".yml", ".py")):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(name)
        else:
            path.mkdir(parents=True)
            (path / "a.yml").write_text("a")
    first = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == first
    (tmp_path / "data" / "a.yml").write_text("changed")
    assert fingerprint(tmp_path) != first
