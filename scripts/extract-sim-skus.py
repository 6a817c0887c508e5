#!/usr/bin/env python3
"""Regenerate crates/tenantctl-sim/data/skus.csv: the simulator's SKU subset.

Reads Microsoft's licensing table (Product names and service plan identifiers for
licensing, shared/data/licensing-product-names.csv) and keeps the rows of the SKUs
an SMB-heavy partner fleet actually holds. Run from the repo root:
    python3 scripts/extract-sim-skus.py ../shared/data/licensing-product-names.csv
"""
import csv, sys

KEEP = [
    "O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM", "SPB", "O365_BUSINESS",
    "ENTERPRISEPACK", "STANDARDPACK", "ENTERPRISEPREMIUM", "SPE_E3", "SPE_E5", "SPE_F1",
    "DESKLESSPACK", "EXCHANGESTANDARD", "EXCHANGEENTERPRISE", "POWER_BI_PRO",
    "POWER_BI_STANDARD", "FLOW_FREE", "AAD_PREMIUM", "EMS", "VISIOCLIENT",
    "PROJECTPROFESSIONAL", "TEAMS_ESSENTIALS_AAD", "Microsoft_Teams_Premium",
    "Microsoft_365_Copilot", "MCOEV",
]

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/licensing-product-names.csv"
out = "crates/tenantctl-sim/data/skus.csv"
rows = []
with open(src, newline="", encoding="utf-8-sig") as f:
    for r in csv.DictReader(f):
        if r["String_Id"] in KEEP:
            rows.append(r)
order = {k: i for i, k in enumerate(KEEP)}
rows.sort(key=lambda r: (order[r["String_Id"]], r["Service_Plan_Name"]))
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["Product_Display_Name", "String_Id", "GUID", "Service_Plan_Name", "Service_Plan_Id"])
    for r in rows:
        w.writerow([r["Product_Display_Name"], r["String_Id"], r["GUID"], r["Service_Plan_Name"], r["Service_Plan_Id"]])
missing = [k for k in KEEP if k not in {r["String_Id"] for r in rows}]
print(f"wrote {len(rows)} rows to {out}; missing: {missing}")
