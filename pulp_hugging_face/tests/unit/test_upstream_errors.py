"""The one reading of the Hub's error answers, for requests and for sync."""

from pulp_hugging_face.app.upstream import error_message


def test_the_hubs_code_and_message_or_the_reason():
    headers = {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository Not Found"}
    assert error_message(headers, "Unauthorized") == "RepoNotFound: Repository Not Found"
    assert error_message({"X-Error-Code": "GatedRepo"}, "Forbidden") == "GatedRepo: Forbidden"
    assert error_message({}, "Bad Gateway") == "Bad Gateway"
    assert error_message({}, None) == "Upstream error"
