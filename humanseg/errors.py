"""Errors a user can cause. tools/ turn each into one message and exit code 2."""


class HumanSegError(Exception):
    """Base class for errors caused by user input (config, data, paths)."""


class ConfigError(HumanSegError):
    """A config file or key is wrong; the message names the key and the fix."""


class DataError(HumanSegError):
    """A data file is missing, unreadable or inconsistent; the message names the file."""
