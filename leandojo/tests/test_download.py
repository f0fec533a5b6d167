import hashlib
import tarfile

import pytest

from reprover.data import Benchmark
from reprover.data.download import fetch_benchmark


@pytest.fixture()
def release(tmp_path, fixture_root):
    """The fixture packed like the Zenodo archive: one top-level folder leandojo_benchmark_4/."""
    archive = tmp_path / "leandojo_benchmark_4.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(fixture_root, arcname="leandojo_benchmark_4")
    return archive, hashlib.md5(archive.read_bytes()).hexdigest()


def test_the_download_verifies_extracts_and_is_skipped_when_present(tmp_path, release):
    archive, md5 = release
    target = fetch_benchmark(tmp_path / "data", url=archive.as_uri(), md5=md5)
    assert len(Benchmark(target).split("random", "val")) == 4
    assert not (tmp_path / "data" / "downloads" / archive.name).exists()  # archive removed after extraction
    archive.unlink()  # a rerun must not need the network (or the archive) again
    assert fetch_benchmark(tmp_path / "data", url=archive.as_uri(), md5=md5) == target


def test_a_download_with_the_wrong_checksum_is_refused_and_not_extracted(tmp_path, release):
    archive, _ = release
    with pytest.raises(ValueError, match="md5 mismatch"):
        fetch_benchmark(tmp_path / "data", url=archive.as_uri(), md5="0" * 32)
    assert not (tmp_path / "data" / "leandojo_benchmark_4").exists()
