#!/usr/bin/env python3
"""Regenerate the licence name tables built into tenantctl (crates/tenantctl-core/data/).

Source: Microsoft's "Product names and service plan identifiers for licensing" CSV
(shared/data/licensing-product-names.csv). Run from the repo root:
    python3 scripts/extract-licence-names.py ../shared/data/licensing-product-names.csv
Writes skus.csv (GUID, String_Id, Product_Display_Name; one row per SKU) and
service-plans.csv (Service_Plan_Id, Service_Plan_Name, friendly name; one row per plan).
"""
import csv, sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/licensing-product-names.csv"
skus, plans = {}, {}
with open(src, newline="", encoding="utf-8-sig") as f:
    for r in csv.DictReader(f):
        skus.setdefault(r["GUID"].lower(), (r["String_Id"], r["Product_Display_Name"]))
        plans.setdefault(r["Service_Plan_Id"].lower(), (r["Service_Plan_Name"], r["Service_Plans_Included_Friendly_Names"]))
with open("crates/tenantctl-core/data/skus.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["GUID", "String_Id", "Product_Display_Name"])
    for g, (sid, name) in sorted(skus.items(), key=lambda kv: kv[1][0].lower()):
        w.writerow([g, sid, name])
with open("crates/tenantctl-core/data/service-plans.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["Service_Plan_Id", "Service_Plan_Name", "Friendly_Name"])
    for g, (name, friendly) in sorted(plans.items(), key=lambda kv: kv[1][0].lower()):
        w.writerow([g, name, friendly])
print(f"{len(skus)} SKUs, {len(plans)} service plans")
