"""Published surface constants the demo scene is built from (one place, each with its source).

Every number here is a *representative, rounded* value chosen inside the range its source
reports; none is a verbatim library entry. Units are given with each table.

Surface classes (``SurfaceClass``) are finer than ESA WorldCover: a dry riverbed (quebrada) and
desert soil are kept apart from moist floodplain soil because they look different to both
sensors, although all three map to WorldCover class 60 (bare / sparse vegetation).

Sources
-------
- ECOSTRESS spectral library: Meerdink, S.K., Hook, S.J., Roberts, D.A., Abbott, E.A. (2019).
  The ECOSTRESS spectral library version 1.0. Remote Sens. Environ. 230:111196.
- ASTER spectral library: Baldridge, A.M., Hook, S.J., Grove, C.I., Rivera, G. (2009).
  The ASTER spectral library version 2.0. Remote Sens. Environ. 113:711-715.
- Turbid water: Doxaran, D., Froidefond, J.-M., Lavender, S., Castaing, P. (2002). Spectral
  signature of highly turbid waters. Remote Sens. Environ. 81(1):149-161.
- Open-water backscatter: Twele, A., Cao, W., Plank, S., Martinis, S. (2016). Sentinel-1-based
  flood mapping: a fully automated processing chain. Int. J. Remote Sens. 37(13):2990-3004;
  Martinis, S., Kersten, J., Twele, A. (2015). A fully automated TerraSAR-X based flood
  service. ISPRS J. Photogramm. Remote Sens. 104:203-212.
- Land backscatter (C band, VV/VH, gamma0): Ulaby, F.T., Long, D.G. (2014). Microwave Radar and
  Radiometric Remote Sensing, Univ. of Michigan Press (ch. 10-11 typical backscatter ranges).
- Flooded forest (double bounce): Hess, L.L., Melack, J.M., Simonett, D.S. (1990). Radar
  detection of flooding beneath the forest canopy: a review. Int. J. Remote Sens.
  11(7):1313-1325.
- Speckle: ESA (2013). Sentinel-1 User Handbook, GMES-S1OP-EOPG-TN-13-0001 (IW GRDH: ENL 4.4).
- Sentinel-2 L2A DN offset: ESA (2022). Sentinel-2 Products Specification Document, processing
  baseline 04.00 onwards: ``BOA_ADD_OFFSET = -1000``, ``BOA_QUANTIFICATION_VALUE = 10000``.
- Population density: Schiavina, M. et al. (2023). GHS-POP R2023A, European Commission JRC
  (urban cores typically 5,000-15,000 persons/km^2).
- Sex and age shares: INEGI (2020) Censo de Poblacion y Vivienda 2020, Mexico; INEI (2018)
  Censos Nacionales 2017, Peru (national shares, rounded).
"""

from __future__ import annotations

from enum import IntEnum
from types import MappingProxyType
from typing import Any


class SurfaceClass(IntEnum):
    """Internal surface classes of the demo landscape (finer than WorldCover)."""

    TREE = 1
    SHRUB = 2
    GRASS = 3
    CROP = 4
    BUILT = 5
    BARE = 6  # moist floodplain soil (brown)
    DESERT = 7  # dry bright desert soil (high NDBI)
    RIVERBED = 8  # dry gravel/sand riverbed (quebrada), high NDBI, smooth to SAR
    WATER_CLEAR = 9  # lake / clear river
    WATER_TURBID = 10  # sediment-laden river
    WETLAND = 11  # herbaceous marsh


#: ESA WorldCover 2021 class codes (Zanaga et al. 2022, product user manual v2).
WORLDCOVER = MappingProxyType(
    {
        SurfaceClass.TREE: 10,
        SurfaceClass.SHRUB: 20,
        SurfaceClass.GRASS: 30,
        SurfaceClass.CROP: 40,
        SurfaceClass.BUILT: 50,
        SurfaceClass.BARE: 60,
        SurfaceClass.DESERT: 60,
        SurfaceClass.RIVERBED: 60,
        SurfaceClass.WATER_CLEAR: 80,
        SurfaceClass.WATER_TURBID: 80,
        SurfaceClass.WETLAND: 90,
    }
)

#: Classes that count as (permanent) water.
WATER_CLASSES = (SurfaceClass.WATER_CLEAR, SurfaceClass.WATER_TURBID)
#: Classes Sen2Cor would label "vegetation" (SCL 4).
VEGETATION_CLASSES = (
    SurfaceClass.TREE,
    SurfaceClass.SHRUB,
    SurfaceClass.GRASS,
    SurfaceClass.CROP,
    SurfaceClass.WETLAND,
)

# --------------------------------------------------------------------------------------------
# Sentinel-2 surface reflectance (unitless, 0..1) per band, band-averaged over the MSI
# spectral response: B02 490 nm, B03 560 nm, B04 665 nm, B08 842 nm, B11 1610 nm, B12 2190 nm.
# --------------------------------------------------------------------------------------------

S2_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12")
#: Bands Sentinel-2 delivers at 10 m; the others (B11, B12, SCL) at 20 m.
S2_BANDS_10M: tuple[str, ...] = ("B02", "B03", "B04", "B08")
S2_BANDS_20M: tuple[str, ...] = ("B11", "B12")
#: Centre wavelengths (micrometres) and common names, for ``eo:bands``.
S2_BAND_INFO = MappingProxyType(
    {
        "B02": ("blue", 0.490),
        "B03": ("green", 0.560),
        "B04": ("red", 0.665),
        "B08": ("nir", 0.842),
        "B11": ("swir16", 1.610),
        "B12": ("swir22", 2.190),
    }
)

#: Reflectance (0..1) per class, order of ``S2_BANDS``.
S2_REFLECTANCE = MappingProxyType(
    {
        # Broadleaf canopy: low visible, green peak, NIR plateau, SWIR water absorption
        # (ECOSTRESS "vegetation / tree" spectra, Meerdink et al. 2019).
        SurfaceClass.TREE: (0.025, 0.050, 0.028, 0.330, 0.155, 0.070),
        # Sparse shrub with soil background (ECOSTRESS shrub + ASTER soil mix).
        SurfaceClass.SHRUB: (0.050, 0.075, 0.085, 0.250, 0.270, 0.190),
        # Green grass (ECOSTRESS "grass" spectra).
        SurfaceClass.GRASS: (0.040, 0.080, 0.055, 0.340, 0.230, 0.125),
        # Growing crops, partial soil cover (ECOSTRESS vegetation + soil mix).
        SurfaceClass.CROP: (0.045, 0.080, 0.065, 0.310, 0.240, 0.150),
        # Urban mix of concrete, asphalt and roofs: flat visible spectrum, moderate SWIR
        # (ECOSTRESS/ASTER "manmade" concrete, asphalt, roofing materials).
        SurfaceClass.BUILT: (0.100, 0.110, 0.120, 0.170, 0.200, 0.180),
        # Moist brown alluvial soil (ASTER "soil" spectra, Baldridge et al. 2009).
        SurfaceClass.BARE: (0.080, 0.110, 0.140, 0.200, 0.280, 0.240),
        # Dry bright desert soil, reddish visible slope (ASTER aridisol / entisol spectra).
        SurfaceClass.DESERT: (0.130, 0.185, 0.250, 0.300, 0.410, 0.370),
        # Dry gravel and sand riverbed (ASTER/ECOSTRESS sand + rock spectra): brighter and
        # redder than built-up (B04/B02 ~ 1.7 against ~ 1.2), NDBI higher than built-up.
        SurfaceClass.RIVERBED: (0.150, 0.205, 0.260, 0.310, 0.420, 0.360),
        # Clear inland water: low everywhere, near zero in NIR/SWIR (ASTER "tap water").
        SurfaceClass.WATER_CLEAR: (0.045, 0.040, 0.022, 0.010, 0.004, 0.002),
        # Sediment-laden water: red peak, raised NIR (Doxaran et al. 2002).
        SurfaceClass.WATER_TURBID: (0.070, 0.095, 0.100, 0.045, 0.012, 0.008),
        # Herbaceous marsh: vegetation over standing water, damped NIR and SWIR.
        SurfaceClass.WETLAND: (0.035, 0.060, 0.040, 0.220, 0.110, 0.055),
    }
)

#: Reflectance (0..1) of an opaque cumulus cloud, order of ``S2_BANDS`` (ECOSTRESS snow/ice
#: excluded; clouds are bright and nearly white in the VNIR, darker in the SWIR).
S2_CLOUD_REFLECTANCE: tuple[float, ...] = (0.460, 0.440, 0.430, 0.450, 0.300, 0.210)
#: Additive reflectance of thin cirrus, order of ``S2_BANDS``.
S2_CIRRUS_ADD: tuple[float, ...] = (0.045, 0.040, 0.035, 0.035, 0.025, 0.015)
#: Multiplicative factor applied to direct-lit reflectance inside a cloud shadow.
S2_SHADOW_FACTOR: float = 0.35
#: Relative pixel-to-pixel variability (1 sigma, fraction of the class reflectance).
S2_PIXEL_NOISE: float = 0.05
#: Relative amplitude of the smooth within-class texture (fraction of the class reflectance).
S2_TEXTURE: float = 0.08
#: Amplitude of the yearly vegetation cycle on NIR reflectance (fraction, +-).
S2_PHENOLOGY_AMPLITUDE: float = 0.12
#: Seasonal standing water in the herbaceous marsh, seen by Sentinel-2 (an *assumed*
#: hydroperiod, not a measured one): on a date, the lowest-lying share ``s`` of the marsh (by
#: HAND) holds shallow open water among the emergent plants, with
#: ``s = clip(MEAN + AMPLITUDE * cos(2 pi (doy - peak) / 365.25), 0, 1)`` (peak day of year per
#: site in :mod:`eo_drr.demo.sensors`): flooded for months at the end of the rainy season, dry
#: at its start. Such a pixel is a linear mix of the marsh and clear-water reflectance with
#: ``S2_MARSH_WATER_FRACTION`` water: tasseled-cap wetness rises above the wet threshold while
#: NDVI stays high and MNDWI negative (wet vegetation, not open water).
S2_MARSH_WET_MEAN: float = 0.7
S2_MARSH_WET_AMPLITUDE: float = 0.8
S2_MARSH_WATER_FRACTION: float = 0.5
#: Sentinel-2 L2A digital numbers: DN = round(reflectance * QUANTIFICATION) - ADD_OFFSET.
S2_QUANTIFICATION_VALUE: int = 10000
S2_BOA_ADD_OFFSET: int = -1000
S2_PROCESSING_BASELINE: str = "05.10"

#: Sen2Cor scene classification codes (ESA Sentinel-2 L2A product definition).
SCL = MappingProxyType(
    {
        "no_data": 0,
        "saturated": 1,
        "dark_area": 2,
        "cloud_shadow": 3,
        "vegetation": 4,
        "not_vegetated": 5,
        "water": 6,
        "unclassified": 7,
        "cloud_medium": 8,
        "cloud_high": 9,
        "thin_cirrus": 10,
        "snow": 11,
    }
)

# --------------------------------------------------------------------------------------------
# Sentinel-1 terrain-flattened backscatter gamma0 (dB), C band, IW mode, ~30-45 deg incidence.
# --------------------------------------------------------------------------------------------

#: Mean gamma0 (dB) per class as (VV, VH).
S1_GAMMA0_DB = MappingProxyType(
    {
        # Forest canopy volume scattering (Ulaby & Long 2014): VV -7 to -8, VH about -13.
        SurfaceClass.TREE: (-7.5, -13.0),
        SurfaceClass.SHRUB: (-10.0, -16.5),
        # Grassland and cropland (Ulaby & Long 2014): VV -10 to -12 dB.
        SurfaceClass.GRASS: (-11.0, -18.0),
        SurfaceClass.CROP: (-10.5, -17.0),
        # Built-up double bounce (Ulaby & Long 2014): VV -3 to 0 dB, VH about -10 dB.
        SurfaceClass.BUILT: (-2.0, -10.0),
        # Bare soil, moist (Ulaby & Long 2014): VV -12 to -15 dB.
        SurfaceClass.BARE: (-12.0, -19.5),
        # Dry desert soil: smoother and drier, towards the lower end of the bare-soil range.
        SurfaceClass.DESERT: (-13.5, -21.5),
        # Dry cobble/gravel riverbed: rough at C band but no double bounce; far below built-up.
        SurfaceClass.RIVERBED: (-14.0, -22.0),
        # Calm open water, specular (Twele et al. 2016; Martinis et al. 2015).
        SurfaceClass.WATER_CLEAR: (-23.0, -29.0),
        # River water, slightly wind/current roughened (Twele et al. 2016).
        SurfaceClass.WATER_TURBID: (-21.0, -27.5),
        # Herbaceous marsh (Ulaby & Long 2014 vegetation over wet soil).
        SurfaceClass.WETLAND: (-12.5, -19.5),
    }
)
#: Increase of gamma0 (dB, VV and VH) of flooded forest: trunk-water double bounce
#: (Hess et al. 1990 report several dB at C band).
S1_FLOODED_FOREST_DB: tuple[float, float] = (3.0, 1.0)
#: Equivalent number of looks of Sentinel-1 IW GRDH (Sentinel-1 User Handbook 2013).
S1_ENL: float = 4.4
#: Amplitude (dB, +-) of the smooth within-class backscatter texture.
S1_TEXTURE_DB: float = 0.7
#: Date-to-date variability (dB, 1 sigma) of the class means: crops change most.
S1_DATE_JITTER_DB = MappingProxyType({SurfaceClass.CROP: 1.0, SurfaceClass.GRASS: 0.5})
S1_DATE_JITTER_DEFAULT_DB: float = 0.25
#: Offset (dB) of the ascending track (different incidence angle) against the descending one.
S1_ASCENDING_OFFSET_DB: float = -0.8
#: Nodata of Planetary Computer's sentinel-1-rtc.
S1_NODATA: float = -32768.0

# --------------------------------------------------------------------------------------------
# Population (GHS-POP-like, persons).
# --------------------------------------------------------------------------------------------

#: Residential density (persons / km^2) of the built-up core, and its +- relative spread
#: (Schiavina et al. 2023: dense urban cores 5,000-15,000 persons / km^2).
POP_URBAN_DENSITY_KM2: float = 10000.0
POP_URBAN_SPREAD: float = 0.5
#: New built-up (epoch-2 growth) is less dense than the old core (fraction of the core).
POP_GROWTH_FRACTION: float = 0.6
#: Rural density (persons / km^2) on cropland, grassland, shrub and bare soil.
POP_RURAL_DENSITY_KM2: float = 60.0
#: GHS-POP nodata.
POP_NODATA: float = -200.0

#: Population shares (fractions of the total) by country, from national censuses (rounded):
#: Mexico, INEGI Censo 2020: 51.2 % women; 25.3 % aged 0-14, 66.5 % 15-64, 8.2 % 65+.
#: Peru, INEI Censos 2017: 50.8 % women; 26.4 % aged 0-14, 65.2 % 15-64, 8.4 % 65+.
POP_SHARES = MappingProxyType(
    {
        "MX": MappingProxyType({"female": 0.512, "age_0_14": 0.253, "age_65_plus": 0.082}),
        "PE": MappingProxyType({"female": 0.508, "age_0_14": 0.264, "age_65_plus": 0.084}),
    }
)


def constants_as_dict() -> dict[str, Any]:
    """All constants above as plain JSON-able values (for ``scene.json``)."""

    def by_class(table: Any) -> dict[str, Any]:
        return {SurfaceClass(k).name.lower(): list(v) for k, v in table.items()}

    return {
        "s2_bands": list(S2_BANDS),
        "s2_reflectance": by_class(S2_REFLECTANCE),
        "s2_cloud_reflectance": list(S2_CLOUD_REFLECTANCE),
        "s2_cirrus_add": list(S2_CIRRUS_ADD),
        "s2_shadow_factor": S2_SHADOW_FACTOR,
        "s2_pixel_noise": S2_PIXEL_NOISE,
        "s2_texture": S2_TEXTURE,
        "s2_phenology_amplitude": S2_PHENOLOGY_AMPLITUDE,
        "s2_marsh_wet_mean": S2_MARSH_WET_MEAN,
        "s2_marsh_wet_amplitude": S2_MARSH_WET_AMPLITUDE,
        "s2_marsh_water_fraction": S2_MARSH_WATER_FRACTION,
        "s2_quantification_value": S2_QUANTIFICATION_VALUE,
        "s2_boa_add_offset": S2_BOA_ADD_OFFSET,
        "s2_processing_baseline": S2_PROCESSING_BASELINE,
        "s1_gamma0_db_vv_vh": by_class(S1_GAMMA0_DB),
        "s1_flooded_forest_db": list(S1_FLOODED_FOREST_DB),
        "s1_enl": S1_ENL,
        "s1_texture_db": S1_TEXTURE_DB,
        "s1_ascending_offset_db": S1_ASCENDING_OFFSET_DB,
        "pop_urban_density_km2": POP_URBAN_DENSITY_KM2,
        "pop_urban_spread": POP_URBAN_SPREAD,
        "pop_growth_fraction": POP_GROWTH_FRACTION,
        "pop_rural_density_km2": POP_RURAL_DENSITY_KM2,
        "pop_shares": {k: dict(v) for k, v in POP_SHARES.items()},
        "worldcover": {SurfaceClass(k).name.lower(): v for k, v in WORLDCOVER.items()},
    }
