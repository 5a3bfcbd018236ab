from bot.training.trained_model import MODEL_INPUTS, fingerprint, model_path, read_deployed, record_served, served_model


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


def test_a_restarted_rasa_starts_with_the_model_last_served(tmp_path):
    models, record = tmp_path / "models", tmp_path / "var" / "deployed_model.json"
    models.mkdir()
    assert served_model(models, record) == model_path(models)  # nothing recorded: the current inputs' model
    deployed = models / "model-00000000deployed.tar.gz"
    deployed.write_bytes(b"weights")
    record_served(deployed, record)
    first = read_deployed(record)
    assert served_model(models, record) == deployed and first.scores == {}
    record_served(deployed, record)
    assert read_deployed(record) == first  # the same model keeps the time it was first served
    deployed.unlink()
    assert served_model(models, record) == model_path(models)  # a record of a model that is gone is no use
    record.write_text("{not json")
    assert read_deployed(record) is None and served_model(models, record) == model_path(models)
