"""The secret scan finds a secret's value in any file, skips the files that exist to hold one, and ignores
placeholders."""

from __future__ import annotations

from pathlib import Path

from boostqa_dev.faults.secrets import scan, secret_row, secret_values


def test_a_leaked_secret_is_found_and_the_row_goes_red(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "task.log").write_text("connecting with password=s3cr3t-value-123\n")
    (tmp_path / "jwt_secret").write_text("s3cr3t-value-123")  # its own store: skipped
    (tmp_path / "clean.log").write_text("nothing here\n")
    scanned, found = scan([tmp_path], ["s3cr3t-value-123"])
    assert scanned == 2 and list(found) == [str(tmp_path / "logs" / "task.log")]
    row = secret_row([tmp_path], ["s3cr3t-value-123", "EMPTY"])
    assert not row.green and row.lost == 1 and "task.log" in row.message and "s3cr" in row.message


def test_placeholders_and_short_values_are_not_searched(tmp_path: Path) -> None:
    assert secret_values(["EMPTY", "", None, "short", "a-real-secret-value"]) == ["a-real-secret-value"]
    (tmp_path / "x.log").write_text("EMPTY short")
    assert secret_row([tmp_path], ["a-real-secret-value"]).green
