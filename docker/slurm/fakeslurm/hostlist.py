"""Slurm hostlist syntax: expand "node[1-3,7],gpu-a[01-02]" and compress back to sorted ranges."""
import re

_BRACKET = re.compile(r"^([^\[]*)\[([^\]]+)\](.*)$")
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _split_top(expr):
    parts, depth, cur = [], 0, []
    for ch in expr:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def expand(expr):
    """Names in the order written; raises ValueError on a malformed range."""
    out = []
    for part in _split_top(expr or ""):
        m = _BRACKET.match(part)
        if not m:
            if "[" in part or "]" in part:
                raise ValueError(part)
            out.append(part)
            continue
        prefix, ranges, suffix = m.groups()
        tails = expand(suffix) if "[" in suffix else [suffix]
        for r in ranges.split(","):
            lo, _, hi = r.partition("-")
            if not lo.isdigit() or (hi and not hi.isdigit()):
                raise ValueError(part)
            width = len(lo)
            for i in range(int(lo), int(hi or lo) + 1):
                for tail in tails:
                    out.append(f"{prefix}{str(i).zfill(width)}{tail}")
    return out


def natural_key(name):
    m = _NUMBERED.match(name)
    return (m.group(1), int(m.group(2)), name) if m else (name, -1, name)


def compress(names):
    """Sorted, deduplicated ranged string, as Slurm prints NodeList: node[1-2,5],other."""
    groups = {}
    plain = []
    for name in sorted(set(names), key=natural_key):
        m = _NUMBERED.match(name)
        if not m:
            plain.append(name)
            continue
        digits = m.group(2)
        width = len(digits) if digits.startswith("0") and len(digits) > 1 else 0
        groups.setdefault((m.group(1), width), []).append(int(digits))
    items = [(name, name) for name in plain]
    for (prefix, width), nums in groups.items():
        ranges, start, prev = [], nums[0], nums[0]
        for n in nums[1:] + [None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            a, b = str(start).zfill(width), str(prev).zfill(width)
            ranges.append(a if start == prev else f"{a}-{b}")
            if n is not None:
                start = prev = n
        text = f"{prefix}{ranges[0]}" if len(nums) == 1 else f"{prefix}[{','.join(ranges)}]"
        items.append((prefix, text))
    return ",".join(text for _, text in sorted(items, key=lambda item: item[0]))


def intersects(a, b):
    return bool(set(a) & set(b))
