"""Scores Keel's and Presidio's column verdicts against the labelled set's labels (see pii_detection.sh)."""
import json
import sys
import time

import pandas as pd

csv_path, keel_path = sys.argv[1], sys.argv[2]
labels = json.load(open(csv_path + ".labels.json"))
truth = {entry["column"]: (entry["kind"] or None) for entry in labels}
decoy = {entry["column"]: entry["decoy"] for entry in labels if entry["decoy"]}

# Keel: the direct identifiers inference reported (quasi-identifiers are not labelled in this set).
keel = {}
for column in json.load(open(keel_path))["profile"]:
    pii = column.get("pii")
    keel[column["name"]] = pii["kind"] if pii and pii["class"] == "direct" else None

# Presidio: the structured analyzer on the table as pandas reads it, entity types mapped to Keel's kinds.
import spacy
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_structured import PandasAnalysisBuilder

blank = csv_path + ".spacy-blank-en"
spacy.blank("en").to_disk(blank)
nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": blank}]}).create_engine()
analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
started = time.perf_counter()
analysis = PandasAnalysisBuilder(analyzer=analyzer).generate_analysis(frame)
presidio_seconds = time.perf_counter() - started
mapping = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "PERSON": "person_name", "LOCATION": "postal_address",
           "US_SSN": "us_ssn", "UK_NINO": "uk_national_insurance", "IBAN_CODE": "iban", "CREDIT_CARD": "credit_card",
           "IP_ADDRESS": "ip_address"}
presidio = {name: mapping.get(entity, "other:" + entity) for name, entity in analysis.entity_mapping.items()}
found_as = {}
for name, entity in analysis.entity_mapping.items():
    found_as.setdefault(truth[name] or "decoy:" + decoy[name], {}).setdefault(entity, 0)
    found_as[truth[name] or "decoy:" + decoy[name]][entity] += 1

kinds = sorted({kind for kind in truth.values() if kind})
print(f"{len(truth)} columns of {len(frame)} values: {len(kinds)} kinds x {sum(1 for k in truth.values() if k == kinds[0])}, "
      f"{len(decoy)} decoys; Presidio took {presidio_seconds:.1f} s")
print("| Kind | Keel precision | Keel recall | Presidio precision | Presidio recall |")
print("|---|---|---|---|---|")
def scores(verdicts, kind):
    flagged = [c for c in truth if verdicts.get(c) == kind]
    right = sum(1 for c in flagged if truth[c] == kind)
    actual = sum(1 for c in truth if truth[c] == kind)
    precision = right / len(flagged) if flagged else float("nan")
    return precision, right / actual
for kind in kinds:
    kp, kr = scores(keel, kind)
    pp, pr = scores(presidio, kind)
    print(f"| {kind} | {kp:.3f} | {kr:.3f} | {pp:.3f} | {pr:.3f} |")
for name, verdicts in [("Keel", keel), ("Presidio", presidio)]:
    alarms = {}
    for c, d in decoy.items():
        if verdicts.get(c):
            alarms[d] = alarms.get(d, 0) + 1
    print(f"{name}: decoy columns taken for personal data: {sum(alarms.values())} of {len(decoy)} {alarms}")
print("Presidio's entity per column, by label:", json.dumps(found_as, sort_keys=True))
