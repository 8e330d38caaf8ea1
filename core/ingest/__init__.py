"""Files in, canonical tables out: readers, cleaning, quota sheets and rules, the sandbox."""
