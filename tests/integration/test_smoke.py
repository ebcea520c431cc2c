from __future__ import annotations


def test_tenant_and_runs_list(nexus, tenant):
    result = nexus("tenants", "list", "--json")
    assert result.exit_code == 0
    assert '"code": "demo"' in result.stdout
