"""The words of the demo records: consideration values, places, companies, concessions,
procedures, price types, countries, id codes."""

from __future__ import annotations

from pipelines.demo.draws import cumulative

SOCIAL_POSITIVE = ("Clause sociale", "Critère social", "Marché réservé", "Concession réservée")


ENVIRONMENTAL_POSITIVE = ("Clause environnementale", "Critère environnemental")


NO_SOCIAL = "Pas de considération sociale"


NO_ENVIRONMENTAL = "Pas de considération environnementale"


TEST_BUYER_SIRET = "44090956200033"


SITES = (
    "groupe scolaire Jules Ferry",
    "école maternelle Les Tilleuls",
    "collège Jean Moulin",
    "gymnase municipal",
    "salle polyvalente",
    "hôtel de ville",
    "la médiathèque",
    "centre technique municipal",
    "piscine intercommunale",
    "EHPAD Les Glycines",
    "crèche municipale",
    "centre social",
    "stade municipal",
    "salle des fêtes",
)


STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "chemin des Vignes",
    "boulevard Gambetta",
    "place de l'Église",
    "rue Pasteur",
    "avenue du Général de Gaulle",
    "rue des Écoles",
    "route de la Gare",
)


PROJECTS = (
    "la construction d'un pôle petite enfance",
    "la rénovation de la piscine",
    "le schéma directeur immobilier",
    "la restructuration du centre-bourg",
    "la création d'une chaufferie biomasse",
)


COMPANY_FORMS = ("SAS", "SARL", "SA", "EURL", "Ets", "Groupe", "")


SURNAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
)


CONCESSIONS = (
    (
        "Délégation de service public pour l'exploitation du centre aquatique de {c}",
        "Délégation de service public",
    ),
    ("Exploitation du service public d'assainissement collectif", "Délégation de service public"),
    ("Gestion et exploitation du camping municipal de {c}", "Délégation de service public"),
    ("Exploitation du réseau de chaleur urbain", "Délégation de service public"),
    ("Concession de service pour la gestion de la fourrière automobile", "Concession de service"),
    ("Gestion des marchés forains de {c}", "Concession de service"),
    ("Exploitation du mobilier urbain publicitaire", "Concession de service"),
    (
        "Concession de travaux pour la construction et l'exploitation d'un parking souterrain",
        "Concession de travaux",
    ),
    ("Concession d'aménagement de la ZAC du centre-bourg de {c}", "Concession de travaux"),
)


OPERATOR_TRADES = ("Exploitation", "Services Publics", "Aménagement", "Loisirs", "Eau")


CONCESSION_PROCEDURES = (
    ("Procédure négociée ouverte", 0.8),
    ("Procédure non négociée ouverte", 0.1),
    ("Procédure négociée restreinte", 0.1),
)


CONCESSION_PROC_CUM = cumulative(w for _, w in CONCESSION_PROCEDURES)


PROCEDURES_ABOVE = (
    ("Appel d'offres ouvert", 0.75),
    ("Appel d'offres restreint", 0.08),
    ("Procédure avec négociation", 0.10),
    ("Dialogue compétitif", 0.02),
    ("Marché passé sans publicité ni mise en concurrence préalable", 0.05),
)


PROCEDURES_BELOW = (
    ("Procédure adaptée", 0.88),
    ("Appel d'offres ouvert", 0.06),
    ("Marché passé sans publicité ni mise en concurrence préalable", 0.05),
    ("Procédure avec négociation", 0.01),
)


PROC_ABOVE = (tuple(p for p, _ in PROCEDURES_ABOVE), cumulative(w for _, w in PROCEDURES_ABOVE))


PROC_BELOW = (tuple(p for p, _ in PROCEDURES_BELOW), cumulative(w for _, w in PROCEDURES_BELOW))


TYPES_PRIX = ("Définitif révisable", "Définitif ferme", "Définitif actualisable", "Provisoire")


TYPES_PRIX_CUM = cumulative((0.5, 0.25, 0.23, 0.02))


SOCIAL_SETS = (
    ("Clause sociale",),
    ("Critère social",),
    ("Marché réservé",),
    ("Critère social", "Clause sociale"),
    ("Clause sociale", "Marché réservé"),
    ("Critère social", "Marché réservé"),
)


SOCIAL_SETS_CUM = cumulative((0.42, 0.22, 0.10, 0.20, 0.03, 0.03))


ENV_SETS = (
    ("Clause environnementale",),
    ("Critère environnemental",),
    ("Critère environnemental", "Clause environnementale"),
)


ENV_SETS_CUM = cumulative((0.3, 0.4, 0.3))


# Under the 2026 obligations (consultations launched from 21 August 2026): the share of contracts
# declaring an environmental (social, above the EU thresholds) consideration, and how it is made
# up: most declare both an execution clause and an award criterion, as the law asks; some only one.
OBLIGED_ENVIRONMENTAL_RATE, OBLIGED_SOCIAL_RATE = 0.86, 0.7
OBLIGED_ENV_SETS_CUM = cumulative((0.08, 0.07, 0.85))
OBLIGED_SOCIAL_SETS_CUM = cumulative((0.55, 0.05, 0.1, 0.2, 0.05, 0.05))


# Wrapped sub-objects that no later step mutates (faults replace them whole) are shared.
SOC_WRAPPED = tuple({"considerationSociale": list(v)} for v in SOCIAL_SETS)


SOC_NONE = {"considerationSociale": [NO_SOCIAL]}


ENV_WRAPPED = tuple({"considerationEnvironnementale": list(v)} for v in ENV_SETS)


ENV_NONE = {"considerationEnvironnementale": [NO_ENVIRONMENTAL]}


TYPES_PRIX_WRAPPED = tuple({"typePrix": [v]} for v in TYPES_PRIX)


COUNTRIES = (
    "99101",
    "99109",
    "99110",
    "99112",
    "99122",
    "99127",
    "99131",
    "99132",
    "99134",
    "99136",
    "99139",
    "99140",
    "99404",
)


TVA_PREFIXES = ("BE0", "DE", "IT", "ES", "LU", "NL")


ID_CODES = {"Travaux": "TRA", "Fournitures": "FCS", "Services": "SRV"}
