# Imported at start-up by every Python whose PYTHONPATH holds this folder (tests set it).
import llm_lab_netguard

llm_lab_netguard.install()
