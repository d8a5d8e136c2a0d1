"""The challenger bot: re-executes a sample of committed results and disputes the wrong ones."""
