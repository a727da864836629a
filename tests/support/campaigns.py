"""The bundled campaign files the tests load."""

from par_index.paths import CAMPAIGNS_DIR

HA_TINH_2023 = CAMPAIGNS_DIR / "ha_tinh_2023.yaml"
