"""support.require_browser: the browser tests fail under CI when Chromium is missing and skip
with the install command elsewhere."""
import pytest

from support import WEB_INSTALL, require_browser


@pytest.mark.parametrize("ci", ["1", None])
def test_missing_chromium_fails_under_ci_and_skips_elsewhere(monkeypatch, tmp_path, ci):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-chromium"))
    if ci:
        monkeypatch.setenv("CI", ci)
        with pytest.raises(pytest.fail.Exception, match="no Chromium.*CI is set"):
            require_browser()
    else:
        monkeypatch.delenv("CI", raising=False)
        with pytest.raises(pytest.skip.Exception, match=WEB_INSTALL.split(" (")[0]):
            require_browser()
