"""squeue/sinfo -o and -O column specs and Slurm's _print_str padding and truncation rules."""


def pad(text, width, right, cut=True):
    """_print_str: '.' right-justifies (truncated to width if cut), otherwise left-justify and truncate."""
    text = "(null)" if text is None else str(text)
    if width > 0 and right:
        out = text.rjust(width)
        if cut:
            out = out[:width]
    elif width > 0:
        out = text[:width]
    else:
        out = text
    return out.ljust(width) if width > 0 else out


def parse_short(fmt):
    """"%.18i %.9P %j" -> [(letter, width, right, suffix)]; text before the first % is a prefix column."""
    cols = []
    first = fmt.find("%")
    if first == -1:
        return [("", 0, False, fmt)]
    if first > 0:
        cols.append(("", 0, False, fmt[:first]))
    for token in fmt[first + 1 :].split("%"):
        if not token:
            continue
        i = 1 if token.startswith(".") else 0
        right = i == 1
        start = i
        while i < len(token) and token[i].isdigit():
            i += 1
        width = int(token[start:i]) if i > start else 0
        letter = token[i] if i < len(token) else ""
        cols.append((letter, width, right, token[i + 1 :]))
    return cols


def parse_long(fmt):
    """"jobid:.18 ,name:8" -> [(name, width, right, suffix)]; no size means 20, left-justified."""
    cols = []
    for token in fmt.split(","):
        if not token:
            continue
        name, colon, rest = token.partition(":")
        if not colon:
            cols.append((name.strip().lower(), 20, False, ""))
            continue
        right = rest.startswith(".")
        rest = rest[1:] if right else rest
        i = 0
        while i < len(rest) and (rest[i].isdigit() or (i == 0 and rest[i] == "-")):
            i += 1
        width = int(rest[:i]) if i else 0
        cols.append((name.strip().lower(), width, right, rest[i:]))
    return cols
