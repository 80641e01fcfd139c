import stat
import threading
from pathlib import Path

from cryptography.fernet import Fernet

from mutualaid.common.secrets import read_or_create_field_keys, read_or_create_secret_key


def test_first_run_makes_a_private_key_file_that_later_runs_reuse(tmp_path: Path) -> None:
    # when
    first = read_or_create_field_keys(tmp_path)
    again = read_or_create_field_keys(tmp_path)

    # then
    assert first == again
    assert len(first) == 1
    Fernet(first[0])  # a valid key
    assert stat.S_IMODE((tmp_path / "field_keys").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["field_keys"]


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    # given: many starters racing on a new data folder
    results: list[str] = []
    start = threading.Barrier(16)

    def starter() -> None:
        start.wait()
        results.append(read_or_create_secret_key(tmp_path))

    threads = [threading.Thread(target=starter) for _ in range(16)]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: one secret, one file, no drafts left behind
    assert len(results) == 16
    assert len(set(results)) == 1
    assert (tmp_path / "secret_key").read_text().strip() == results[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_several_keys_are_read_newest_first(tmp_path: Path) -> None:
    newest, older = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    (tmp_path / "field_keys").write_text(f"{newest}\n\n{older}\n")

    assert read_or_create_field_keys(tmp_path) == [newest, older]
