


def publish(lines: list[str], out: str | None) -> None:
    """Print a result's lines, and append them to the file `out` when one is given."""
    text = "\n".join(lines)
    print(text)
    if out:
        with open(out, "a") as f:
            f.write(text + "\n")
