"""The Sendai Framework indicators that the EO proxies stand in for, by their official names,
for people to read (the report, the command line) in the current language.

The names are those of the indicators adopted by the UN General Assembly (report of the
open-ended intergovernmental expert working group on indicators and terminology, A/71/644,
2016) for the Sendai Framework for Disaster Risk Reduction 2015-2030; the Spanish and
Portuguese catalogues follow the official Spanish texts (Marco de Sendai para la Reducción
del Riesgo de Desastres 2015-2030) and UNDRR's Portuguese texts (Marco de Sendai para a
Redução do Risco de Desastres 2015-2030). Every label keeps the EO-proxy wording: these are
Earth-observation proxies, never reported Sendai values. The tables written to files keep the
English names and codes (:mod:`eo_drr.sendai.sfm`).
"""

from __future__ import annotations

from eo_drr.i18n import N_, gettext
from eo_drr.sendai.sfm import Indicator

#: the official names of the Sendai indicators the EO proxies stand in for
SENDAI_NAMES = {
    "B-1": N_("Number of directly affected people attributed to disasters, per 100,000 population"),
    "C-2": N_("Direct agricultural loss attributed to disasters"),
    "C-4": N_("Direct economic loss in the housing sector attributed to disasters"),
    "D-2": N_("Number of destroyed or damaged health facilities attributed to disasters"),
    "D-3": N_("Number of destroyed or damaged educational facilities attributed to disasters"),
    "D-4": N_(
        "Number of other destroyed or damaged critical infrastructure units and facilities "
        "attributed to disasters"
    ),
    "G-5": N_(
        "Number of countries that have accessible, understandable, usable and relevant "
        "disaster risk information and assessment available to the people at the national "
        "and local levels"
    ),
}
#: how every EO-proxy figure is labelled
EO_PROXY = N_("Earth-observation proxy (EO proxy)")


def sendai_name(code: str) -> str:
    """The official name of Sendai indicator ``code`` (``"B-1"``) in the current language, or
    ``code`` itself when it has none here."""
    name = SENDAI_NAMES.get(code)
    return gettext(name) if name else code


def indicator_label(ind: Indicator) -> str:
    """``EO-B1 · People living inside the observed flood extent`` and, for a proxy of a Sendai
    indicator, ``(EO proxy for B-1: Number of directly affected people ...)``, in the current
    language."""
    text = f"{ind.code} · {gettext(ind.description)}"
    if not ind.proxy_for:
        return text
    return gettext("{label} ({proxy} for {code}: {name})").format(
        label=text, proxy=gettext(EO_PROXY), code=ind.proxy_for, name=sendai_name(ind.proxy_for)
    )
