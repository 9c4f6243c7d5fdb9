"""Slurm's time strings: timestamps, elapsed times, time limits (src/common/parse_time.c)."""
import re
import time

UNLIMITED = None  # a time limit of INFINITE


def timestamp(t):
    """slurm_make_time_str: 2024-01-31T12:00:00, or Unknown for 0/None."""
    if not t:
        return "Unknown"
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t))


def secs2time_str(secs):
    """RunTime= style: 00:01:05, 1-02:03:04."""
    secs = int(secs)
    if secs < 0:
        return "INVALID"
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def limit_str(minutes, fake_seconds=None):
    """TimeLimit= style; the fake per-second limit prints its real length."""
    if fake_seconds is not None:
        return secs2time_str(fake_seconds)
    if minutes is UNLIMITED:
        return "UNLIMITED"
    return secs2time_str(minutes * 60)


def squeue_secs(secs):
    """squeue %M / %l style: 0:00, 1:02:03, 1-02:03:04."""
    secs = int(secs)
    if secs < 0 or secs > 365 * 86400:
        return "INVALID"
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{seconds:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


_LIMIT = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_time_limit(text):
    """sbatch -t: minutes | m:s | h:m:s | d-h | d-h:m | d-h:m:s | UNLIMITED. Returns minutes or UNLIMITED."""
    text = text.strip()
    if text.upper() in ("UNLIMITED", "INFINITE", "-1"):
        return UNLIMITED
    m = _LIMIT.match(text)
    if not m:
        raise ValueError(text)
    days, a, b, c = m.groups()
    if days is not None:  # d-h, d-h:m, d-h:m:s
        secs = int(days) * 86400 + int(a) * 3600 + int(b or 0) * 60 + int(c or 0)
    elif c is not None:  # h:m:s
        secs = int(a) * 3600 + int(b) * 60 + int(c)
    elif b is not None:  # m:s
        secs = int(a) * 60 + int(b)
    else:  # m
        secs = int(a) * 60
    return (secs + 59) // 60


_UNITS = {"": 1, "s": 1, "sec": 1, "seconds": 1, "m": 60, "min": 60, "minutes": 60, "h": 3600, "hour": 3600,
          "hours": 3600, "d": 86400, "days": 86400}


def parse_begin(text, now):
    """sbatch --begin: now[+N[unit]] | HH:MM[:SS] | YYYY-MM-DD[THH:MM[:SS]]."""
    text = text.strip()
    m = re.match(r"^now(?:\+(\d+)([a-z]*))?$", text)
    if m:
        if m.group(1) is None:
            return now
        unit = m.group(2) or "s"
        if unit not in _UNITS:
            raise ValueError(text)
        return now + int(m.group(1)) * _UNITS[unit]
    m = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", text)
    if m:
        t = time.localtime(now)
        secs = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)
        midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
        at = midnight + secs
        return at if at >= now else at + 86400
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return time.mktime(time.strptime(text, fmt))
        except ValueError:
            pass
    raise ValueError(text)
