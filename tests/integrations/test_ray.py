"""fastconv.integrations.ray on a local Ray instance: 1,000 PNG files read with Ray's image reader, classified by
an actor pool, must give the predictions of a plain InferenceSession loop over the same files."""
import os

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the optional extra: pip install 'fastconv[ray]'")
pytest.importorskip("ray.data", reason="the optional extra: pip install 'fastconv[ray]'")
from PIL import Image  # noqa: E402  (pillow comes with the extra)

import fastconv  # noqa: E402
from fastconv import InferenceSession  # noqa: E402
from fastconv.integrations.ray import FastconvPredictor, predict, to_nchw_float32  # noqa: E402
from fastconv.models import model_path  # noqa: E402

N_IMAGES = 1000
SIZE = 64  # resnet_small's native input: [N, 3, 64, 64]


def _images(n: int, seed: int = 0) -> np.ndarray:
    """Coloured stripes of random frequency, angle and phase plus noise: varied enough that the untrained
    resnet_small predicts more than one class."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    f = rng.uniform(0.5, 12, (n, 1, 1, 1))
    theta = rng.uniform(0, np.pi, (n, 1, 1, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1, 3))
    wave = 2 * np.pi * f * (np.cos(theta) * xx[..., None] + np.sin(theta) * yy[..., None])
    stripes = 0.5 + 0.5 * np.sin(wave + phase)
    noise = rng.normal(0, 0.2, stripes.shape) * rng.uniform(0, 1, (n, 1, 1, 1))
    img = stripes * rng.uniform(0, 1, (n, 1, 1, 3)) + noise
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def cluster():
    # 3 logical CPUs on a 2-core machine: 2 actors x 1 CPU, and one left for the tasks reading the files (an
    # actor pool holding every CPU starves them; see predict's docstring). Workers import the fastconv under test.
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastconv.__file__)))
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    for k, img in enumerate(_images(N_IMAGES)):
        Image.fromarray(img).save(d / f"{k:04d}.png")
    return d


def _plain_loop(paths, model, preprocess=to_nchw_float32) -> np.ndarray:
    sess = InferenceSession(model, num_threads=1)
    # A batch of 64 first: kernels picked only for larger batches get compiled here once, and the actors load
    # them from Numba's on-disk cache (NUMBA_CACHE_DIR reaches them) instead of each compiling its own copy.
    sess.run(None, {"input": np.zeros((64, 3, SIZE, SIZE), np.float32)})
    return np.concatenate([sess.run(None, {"input": preprocess(np.asarray(Image.open(p))[None])})[0]
                           for p in paths])


def _sorted(rows):
    rows = sorted(rows, key=lambda r: r["path"])
    return [r["path"] for r in rows], np.stack([r["scores"] for r in rows]), np.array([r["class"] for r in rows]), \
        np.array([r["score"] for r in rows])


def test_thousand_image_files_match_a_plain_loop(cluster, folder):
    expected = _plain_loop([folder / f"{k:04d}.png" for k in range(N_IMAGES)], model_path())
    ds = ray.data.read_images(str(folder), include_paths=True)
    rows = predict(ds, model_path(), num_actors=2, threads_per_actor=1, batch_size=64).take_all()
    assert len(rows) == N_IMAGES and set(rows[0]) == {"path", "scores", "class", "score"}
    paths, scores, classes, score = _sorted(rows)
    assert [os.path.basename(p) for p in paths] == [f"{k:04d}.png" for k in range(N_IMAGES)]
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(classes, expected.argmax(axis=1))
    np.testing.assert_array_equal(score, scores[np.arange(N_IMAGES), classes])
    assert len(np.unique(classes)) > 1  # the comparison of argmaxes means something


def test_model_as_bytes_and_preprocess_hook(cluster, folder):
    paths = sorted(str(p) for p in folder.iterdir())[:100]
    with open(model_path(), "rb") as f:
        model = f.read()

    def mirrored(images):  # runs in the actors
        return to_nchw_float32(images[:, :, ::-1]) * np.float32(0.5)

    expected = _plain_loop(paths, model, mirrored)
    ds = ray.data.read_images(paths, include_paths=True)
    rows = predict(ds, model, num_actors=1, batch_size=16, preprocess=mirrored, output_column="probs",
                   classify=False, keep_input=True).take_all()
    rows.sort(key=lambda r: r["path"])
    assert set(rows[0]) == {"path", "image", "probs"}
    np.testing.assert_array_equal(rows[0]["image"], np.asarray(Image.open(paths[0])))
    np.testing.assert_allclose(np.stack([r["probs"] for r in rows]), expected, rtol=1e-5, atol=1e-7)


def test_wrong_input_column_named_before_running(cluster):
    ds = ray.data.from_items([{"pixels": np.zeros((SIZE, SIZE, 3), np.uint8)}])  # schema known up front
    with pytest.raises(ValueError, match=r"input column 'image' is not in the dataset; its columns are \['pixels'\]"):
        predict(ds, model_path(), num_actors=1)


def test_wrong_input_column_of_a_lazy_dataset_named_by_the_first_batch(cluster, folder):
    ds = ray.data.read_images(sorted(str(p) for p in folder.iterdir())[:4])  # schema known only once read
    with pytest.raises(ray.exceptions.RayTaskError, match=r"input column 'img' is not in the dataset; its columns "
                                                          r"are \['image'\]"):
        predict(ds, model_path(), input_column="img", num_actors=1).take_all()


def test_predictor_without_ray(folder):
    """The callable class on its own: what map_batches calls, with the errors a user meets first."""
    imgs = np.stack([np.asarray(Image.open(p)) for p in sorted(folder.iterdir())[:8]])
    pred = FastconvPredictor(model_path(), num_threads=1)
    out = pred({"image": imgs, "id": np.arange(8)})
    np.testing.assert_array_equal(out["id"], np.arange(8))
    np.testing.assert_array_equal(out["class"], out["scores"].argmax(axis=1))
    with pytest.raises(fastconv.InvalidInputError, match=r"column 'image' after preprocess: float32 \[8, 3, 32, 32\]"):
        pred({"image": imgs[:, ::2, ::2]})
    with pytest.raises(ValueError, match="the model has no output 'logits'; its outputs are \\['probabilities'\\]"):
        FastconvPredictor(model_path(), output_name="logits")


def test_pool_taking_every_cpu_warns(cluster):
    ds = ray.data.from_items([{"image": np.zeros((SIZE, SIZE, 3), np.uint8)}])
    with pytest.warns(UserWarning, match="3 actors x 1 CPUs take all 3 CPUs of the Ray cluster"):
        predict(ds, model_path(), num_actors=3)  # lazy: nothing runs, the warning comes at once
