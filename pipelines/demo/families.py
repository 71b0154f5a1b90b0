"""Contract families of the demo: what is bought (CPV, object templates, lots), at what amount
and duration, under which CCAG, and how often with social or environmental considerations.

Over 500 lines on purpose: it is one table of data (each family a few lines), read as a whole;
cutting it would only scatter it."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.demo.draws import cumulative


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    market: str  # Travaux / Fournitures / Services
    weight: float
    items: tuple  # (object template, CPV or None when the lot gives it)
    lots: tuple  # (lot label, CPV)
    social: float  # relative propensity before normalisation
    environmental: float
    median: float
    sigma: float
    duration: tuple[int, int]
    ccag: tuple  # (value, weight)
    trade: tuple  # company name suffixes
    origin: bool = False  # origineUE / origineFrance are asked for food, vehicles, health goods


CCAG_WORKS = (("Travaux", 0.9), ("Pas de CCAG", 0.1))


CCAG_FCS = (("Fournitures courantes et services", 0.6), ("Pas de CCAG", 0.4))


CCAG_IT = (
    ("Techniques de l'information et de la communication", 0.5),
    ("Fournitures courantes et services", 0.3),
    ("Pas de CCAG", 0.2),
)


CCAG_PI = (("Prestations intellectuelles", 0.55), ("Maitrise d'œuvre", 0.25), ("Pas de CCAG", 0.2))


FAMILIES = (
    Family(
        "batiment",
        "Travaux",
        0.22,
        (
            ("Travaux de réhabilitation du groupe scolaire {p} - Lot {ln} : {lot}", None),
            ("Construction d'un gymnase à {c} - Lot {ln} : {lot}", None),
            ("Réhabilitation de {n} logements locatifs sociaux à {c} - Lot {ln} : {lot}", None),
            ("Rénovation énergétique de l'hôtel de ville de {c}", "45453000"),
            ("Extension et restructuration de {site}", "45210000"),
            ("Travaux de mise en accessibilité des bâtiments communaux", "45453000"),
            ("Construction d'une maison de santé pluriprofessionnelle à {c}", "45215100"),
            ("Remplacement des menuiseries extérieures de {site}", "45421000"),
            ("Chauffage, ventilation & climatisation de {site}", "45331000"),
            ("Construction d'un groupe scolaire à {c}", "45214200"),
        ),
        (
            ("Gros œuvre - maçonnerie", "45262500"),
            ("Charpente - couverture", "45261000"),
            ("Menuiseries extérieures", "45421000"),
            ("Plâtrerie - isolation", "45324000"),
            ("Électricité courants forts et faibles", "45310000"),
            ("Chauffage - ventilation - plomberie", "45331000"),
            ("Peinture", "45442100"),
            ("Revêtements de sols", "45432100"),
            ("Désamiantage", "45262660"),
            ("Démolition", "45111100"),
            ("VRD - aménagements extérieurs", "45233000"),
        ),
        1.5,
        1.4,
        220_000,
        1.2,
        (2, 24),
        CCAG_WORKS,
        ("Bâtiment", "Construction", "BTP", "Menuiserie", "Électricité", "Charpente"),
    ),
    Family(
        "voirie",
        "Travaux",
        0.13,
        (
            ("Travaux de voirie et réseaux divers {street} à {c}", "45233140"),
            ("Programme annuel d'entretien de la voirie communale {y}", "45233252"),
            ("Renouvellement du réseau d'eau potable {street}", "45232150"),
            ("Réhabilitation du réseau d'assainissement - secteur {street}", "45232410"),
            ("Aménagement d'un carrefour giratoire sur la RD {n}", "45233128"),
            ("Travaux d'entretien des routes départementales", "45233141"),
            ("Aménagement paysager du parc urbain de {c}", "45112710"),
            ("Création d'une piste cyclable entre {c} et {c2}", "45233162"),
            ("Enfouissement des réseaux secs {street}", "45231400"),
        ),
        (),
        1.4,
        1.1,
        260_000,
        1.2,
        (1, 24),
        CCAG_WORKS,
        ("Travaux Publics", "TP", "Routes", "Réseaux", "Canalisations"),
    ),
    Family(
        "informatique_fournitures",
        "Fournitures",
        0.04,
        (
            ("Acquisition de postes informatiques et périphériques", "30213000"),
            ("Fourniture d'ordinateurs portables pour les écoles de {c}", "30213100"),
            ("Acquisition de licences logicielles et maintenance associée", "48000000"),
            ("Fourniture de copieurs multifonctions et prestations de maintenance", "30121100"),
            ("Acquisition d'écrans numériques interactifs pour les écoles", "32322000"),
            ("Fourniture de serveurs et de matériel réseau", "48820000"),
        ),
        (),
        0.3,
        0.8,
        90_000,
        1.0,
        (1, 48),
        CCAG_IT,
        ("Informatique", "Systèmes", "Digital", "Bureautique"),
    ),
    Family(
        "vehicules",
        "Fournitures",
        0.03,
        (
            ("Acquisition de véhicules légers électriques", "34144900"),
            ("Fourniture d'une benne à ordures ménagères", "34144510"),
            ("Acquisition d'une balayeuse de voirie", "34144430"),
            ("Acquisition de véhicules utilitaires pour les services techniques", "34136000"),
            ("Fourniture d'un camion-citerne feux de forêts", "34144210"),
        ),
        (),
        0.4,
        1.4,
        120_000,
        0.9,
        (1, 12),
        CCAG_FCS,
        ("Automobiles", "Poids Lourds", "Véhicules", "Équipements"),
    ),
    Family(
        "mobilier_bureau",
        "Fournitures",
        0.03,
        (
            ("Fourniture de mobilier scolaire pour les écoles de {c}", "39160000"),
            ("Fourniture de fournitures de bureau et de papier", "30192000"),
            ("Acquisition de mobilier de bureau", "39130000"),
            ("Fourniture de livres et documents pour la médiathèque", "22110000"),
            ("Fourniture de matériel pédagogique", "39162000"),
        ),
        (),
        0.5,
        0.9,
        70_000,
        0.9,
        (12, 48),
        CCAG_FCS,
        ("Bureau", "Mobilier", "Librairie", "Distribution"),
    ),
    Family(
        "alimentaire",
        "Fournitures",
        0.05,
        (
            (
                "Denrées alimentaires pour la restauration scolaire - Lot {ln} : {lot}",
                None,
            ),
            ("Fourniture de produits laitiers bio et locaux", "15500000"),
            ("Fourniture de pain et viennoiseries", "15810000"),
        ),
        (
            ("Viandes fraîches", "15110000"),
            ("Fruits et légumes frais", "15300000"),
            ("Produits laitiers", "15500000"),
            ("Épicerie", "15800000"),
            ("Surgelés", "15896000"),
            ("Volailles", "15112000"),
            ("Produits issus de l'agriculture biologique", "15000000"),
        ),
        0.8,
        1.5,
        110_000,
        1.0,
        (12, 48),
        CCAG_FCS,
        ("Alimentaire", "Primeurs", "Viandes", "Laiterie", "Boulangerie"),
        True,
    ),
    Family(
        "energie",
        "Fournitures",
        0.03,
        (
            ("Fourniture et acheminement d'électricité pour les bâtiments communaux", "09310000"),
            ("Fourniture de gaz naturel et services associés", "09123000"),
            ("Fourniture de carburants pour la flotte de véhicules", "09134100"),
            ("Fourniture de granulés de bois pour la chaufferie", "09111400"),
        ),
        (),
        0.3,
        1.3,
        300_000,
        1.3,
        (12, 48),
        CCAG_FCS,
        ("Énergies", "Énergie", "Carburants"),
    ),
    Family(
        "sante",
        "Fournitures",
        0.04,
        (
            ("Fourniture de dispositifs médicaux stériles", "33140000"),
            ("Fourniture de produits de santé - Lot {ln} : {lot}", None),
            ("Acquisition d'un échographe", "33112200"),
            ("Fourniture de gants d'examen et d'équipements de protection", "18424300"),
        ),
        (
            ("Médicaments génériques", "33600000"),
            ("Réactifs de laboratoire", "33696500"),
            ("Pansements", "33141110"),
        ),
        0.4,
        0.5,
        150_000,
        1.3,
        (12, 48),
        CCAG_FCS,
        ("Médical", "Pharma", "Santé"),
        True,
    ),
    Family(
        "entretien_fournitures",
        "Fournitures",
        0.03,
        (
            ("Fourniture de produits d'entretien et d'hygiène", "39830000"),
            (
                "Fourniture de vêtements de travail et d'équipements de protection individuelle",
                "18100000",
            ),
            ("Fourniture de matériaux de construction pour les services techniques", "44110000"),
            ("Fourniture de sel de déneigement", "34927100"),
            ("Fourniture de végétaux pour les espaces verts", "03450000"),
        ),
        (),
        0.7,
        1.3,
        70_000,
        0.9,
        (12, 48),
        CCAG_FCS,
        ("Hygiène", "Négoce", "Matériaux"),
    ),
    Family(
        "nettoyage",
        "Services",
        0.05,
        (
            ("Nettoyage des locaux administratifs", "90919200"),
            ("Prestations de nettoyage des bâtiments communaux de {c}", "90911200"),
            ("Nettoyage des vitres et surfaces vitrées", "90911300"),
            ("Entretien ménager des écoles et équipements sportifs", "90919300"),
            ("Nettoyage des locaux de {site}", "90910000"),
        ),
        (),
        1.9,
        1.3,
        150_000,
        1.0,
        (12, 48),
        CCAG_FCS,
        ("Propreté", "Nettoyage", "Services"),
    ),
    Family(
        "espaces_verts",
        "Services",
        0.04,
        (
            ("Entretien des espaces verts de la commune de {c}", "77310000"),
            ("Élagage et abattage d'arbres", "77341000"),
            ("Fauchage et débroussaillage des accotements", "77312000"),
            ("Entretien des terrains de sport engazonnés", "77320000"),
            ("Tonte et entretien des espaces verts des résidences", "77314000"),
        ),
        (),
        1.8,
        1.4,
        110_000,
        0.9,
        (12, 48),
        CCAG_FCS,
        ("Paysages", "Espaces Verts", "Jardins"),
    ),
    Family(
        "dechets",
        "Services",
        0.03,
        (
            ("Collecte des ordures ménagères et assimilés", "90511000"),
            ("Exploitation des déchèteries du territoire", "90500000"),
            ("Transport et traitement des déchets verts", "90513000"),
            ("Collecte sélective des emballages et du verre", "90511000"),
            ("Balayage mécanisé des voiries", "90610000"),
        ),
        (),
        1.5,
        1.5,
        600_000,
        1.3,
        (12, 72),
        CCAG_FCS,
        ("Environnement", "Recyclage", "Propreté"),
    ),
    Family(
        "restauration",
        "Services",
        0.03,
        (
            (
                "Fourniture et livraison de repas en liaison froide pour la restauration scolaire",
                "55523100",
            ),
            ("Gestion et exploitation du restaurant administratif", "55510000"),
            ("Portage de repas à domicile pour les personnes âgées", "55521100"),
            ("Prestations de traiteur pour les réceptions", "55520000"),
        ),
        (),
        1.2,
        1.5,
        250_000,
        1.1,
        (12, 48),
        CCAG_FCS,
        ("Restauration", "Traiteur", "Cuisine"),
    ),
    Family(
        "informatique_services",
        "Services",
        0.04,
        (
            ("Maintenance et hébergement du logiciel de gestion financière", "72267000"),
            ("Tierce maintenance applicative du système d'information", "72267000"),
            ("Infogérance et support informatique des utilisateurs", "72510000"),
            ("Développement et maintenance du portail usagers", "72212000"),
            ("Hébergement et infogérance des serveurs", "72415000"),
            ("Prestations de cybersécurité et tests d'intrusion", "72000000"),
        ),
        (),
        0.4,
        0.5,
        120_000,
        1.1,
        (12, 48),
        CCAG_IT,
        ("Informatique", "Consulting", "Data"),
    ),
    Family(
        "prestations_intellectuelles",
        "Services",
        0.07,
        (
            ("Mission de maîtrise d'œuvre pour la réhabilitation de {site}", "71000000"),
            ("Assistance à maîtrise d'ouvrage pour {project}", "71541000"),
            ("Prestations d'assurances - Lot {ln} : {lot}", None),
            ("Mission de contrôle technique et de coordination SPS", "71317210"),
            ("Relevés topographiques et études géotechniques", "71351810"),
            ("Élaboration du plan local d'urbanisme intercommunal", "71410000"),
            ("Assistance juridique et représentation en justice", "79100000"),
            ("Étude et conseil en organisation des services", "79410000"),
        ),
        (
            ("Dommages aux biens", "66515200"),
            ("Responsabilité civile", "66516000"),
            ("Flotte automobile", "66514110"),
            ("Protection juridique", "66513100"),
        ),
        0.6,
        0.6,
        90_000,
        1.0,
        (6, 48),
        CCAG_PI,
        ("Ingénierie", "Conseil", "Architectes", "Avocats"),
    ),
    Family(
        "maintenance",
        "Services",
        0.05,
        (
            (
                "Maintenance des installations de chauffage, ventilation et climatisation",
                "50720000",
            ),
            ("Entretien et maintenance des ascenseurs", "50750000"),
            ("Vérification et maintenance des équipements de sécurité incendie", "50413200"),
            ("Entretien et réparation des véhicules du parc", "50110000"),
            ("Maintenance de l'éclairage public", "50232100"),
            ("Contrôles périodiques réglementaires des bâtiments", "71631000"),
        ),
        (),
        0.9,
        1.0,
        90_000,
        1.0,
        (12, 48),
        CCAG_FCS,
        ("Maintenance", "Thermique", "Ascenseurs"),
    ),
    Family(
        "transport",
        "Services",
        0.03,
        (
            ("Transport scolaire - circuits desservant {c}", "60130000"),
            ("Transport des élèves vers les équipements sportifs et culturels", "60130000"),
            ("Exploitation du réseau de transport urbain", "60112000"),
            ("Transport à la demande pour les personnes à mobilité réduite", "60100000"),
        ),
        (),
        0.8,
        1.0,
        250_000,
        1.1,
        (12, 72),
        CCAG_FCS,
        ("Transports", "Voyages", "Autocars"),
    ),
    Family(
        "securite",
        "Services",
        0.02,
        (
            ("Prestations de gardiennage et de surveillance des bâtiments", "79713000"),
            ("Télésurveillance et intervention sur alarme", "79711000"),
            ("Sécurité des manifestations culturelles et sportives", "79710000"),
        ),
        (),
        1.2,
        0.5,
        120_000,
        1.0,
        (12, 48),
        CCAG_FCS,
        ("Sécurité", "Surveillance"),
    ),
    Family(
        "insertion_formation",
        "Services",
        0.02,
        (
            ("Accompagnement socio-professionnel des bénéficiaires du RSA", "85312000"),
            ("Actions de formation professionnelle qualifiante", "80530000"),
            ("Prestations d'insertion sociale et professionnelle", "85320000"),
            ("Formation des agents aux premiers secours", "80500000"),
        ),
        (),
        2.0,
        0.4,
        100_000,
        1.0,
        (12, 48),
        CCAG_FCS,
        ("Formation", "Insertion", "Solidarité"),
    ),
    Family(
        "communication",
        "Services",
        0.01,
        (
            ("Impression du magazine municipal", "79810000"),
            ("Conception et impression des supports de communication", "79800000"),
            ("Prestations de communication et de relations presse", "79416000"),
        ),
        (),
        0.8,
        1.1,
        60_000,
        0.8,
        (12, 48),
        CCAG_FCS,
        ("Imprimerie", "Communication"),
    ),
    Family(
        "telecom_courrier",
        "Services",
        0.01,
        (
            ("Services de télécommunications fixes et mobiles", "64200000"),
            ("Accès internet et interconnexion des sites", "72400000"),
            ("Affranchissement et gestion du courrier", "64110000"),
        ),
        (),
        0.4,
        0.6,
        150_000,
        1.0,
        (24, 48),
        CCAG_FCS,
        ("Télécom", "Réseaux"),
    ),
)


FAMILY_CUM = cumulative(f.weight for f in FAMILIES)


# Normalise the relative propensities so that their contract-weighted mean is 1: the overall
# shares stay on target while cleaning or works carry clauses far more often than IT.
SOC_NORM = sum(f.weight * f.social for f in FAMILIES) / FAMILY_CUM[-1]


ENV_NORM = sum(f.weight * f.environmental for f in FAMILIES) / FAMILY_CUM[-1]


FAMILY_SOC = tuple(f.social / SOC_NORM for f in FAMILIES)


FAMILY_ENV = tuple(f.environmental / ENV_NORM for f in FAMILIES)


FAMILY_CCAG = tuple(
    (tuple(v for v, _ in f.ccag), cumulative(w for _, w in f.ccag)) for f in FAMILIES
)
