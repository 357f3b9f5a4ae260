"""files: the data folder, the database and the keys are private from the start, and a file
is replaced whole, never written through a link planted at its name."""

from __future__ import annotations

import stat
from pathlib import Path

from newsletter.files import make_private_file, make_private_folder, write_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_missing_folders_are_made_private_and_an_existing_one_keeps_its_mode(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    make_private_folder(shared / "data" / "outbox")
    assert mode(shared) == 0o755
    assert mode(shared / "data") == mode(shared / "data" / "outbox") == 0o700


def test_a_private_file_is_made_empty_once_and_never_emptied(tmp_path: Path) -> None:
    database = tmp_path / "data" / "newsletter.db"
    make_private_file(database)
    assert (mode(database.parent), mode(database), database.read_bytes()) == (0o700, 0o600, b"")
    database.write_bytes(b"subscribers")
    make_private_file(database)
    assert database.read_bytes() == b"subscribers"


def test_a_link_at_the_name_is_replaced_and_its_target_left_alone(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("niet van ons", encoding="utf-8")
    key = tmp_path / "secret-key"
    key.symlink_to(elsewhere)
    write_file(key, "geheim")
    assert not key.is_symlink()
    assert (key.read_text(encoding="utf-8"), mode(key)) == ("geheim", 0o600)
    assert elsewhere.read_text(encoding="utf-8") == "niet van ons"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "secret-key"]
