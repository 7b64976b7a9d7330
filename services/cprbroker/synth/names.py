"""Danish names and occupations for synthetic persons.

First names are split by generation (born before or from 1975) so that a
grandmother is a Kirsten and a newborn an Ida. Surnames are listed roughly by
frequency: :data:`SURNAME_WEIGHTS` falls with rank, so Nielsen, Jensen and
Hansen dominate as they do in Denmark.
"""

from __future__ import annotations

MALE_OLDER: tuple[str, ...] = (
    "Jens", "Peter", "Hans", "Niels", "Lars", "Søren", "Jørgen", "Henrik", "Michael",
    "Poul", "Erik", "Bent", "Steen", "Claus", "Ole", "Per", "Jan", "Kim", "Torben",
    "Flemming", "Preben", "Svend", "Knud", "Leif", "Finn", "Henning", "Carsten",
    "Kurt", "Bjarne", "Morten", "Thomas", "Anders", "Jesper", "John", "Allan", "Bo",
    "Brian", "Tommy", "Arne", "Erling", "Frank", "Gunnar", "Kaj", "Karsten", "Ib",
    "Aksel", "Villy", "Verner", "Benny", "Jørn",
)  # fmt: skip
MALE_YOUNGER: tuple[str, ...] = (
    "William", "Noah", "Oscar", "Lucas", "Carl", "Victor", "Malthe", "Emil", "Alfred",
    "Frederik", "Oliver", "Magnus", "Elias", "August", "Aksel", "Valdemar", "Arthur",
    "Theo", "Johan", "Mikkel", "Mads", "Rasmus", "Mathias", "Sebastian", "Alexander",
    "Tobias", "Jonas", "Simon", "Nikolaj", "Kasper", "Christian", "Martin", "Andreas",
    "Daniel", "Jakob", "Benjamin", "Anton", "Storm", "Karl", "Lauge", "Viggo", "Otto",
    "Hugo", "Felix", "Bertram", "Asger", "Marius", "Liam", "Albert", "Adam",
)  # fmt: skip
FEMALE_OLDER: tuple[str, ...] = (
    "Kirsten", "Anne", "Hanne", "Mette", "Helle", "Susanne", "Lene", "Marianne",
    "Lone", "Pia", "Inge", "Bente", "Tina", "Gitte", "Karen", "Birgit", "Else",
    "Grethe", "Jytte", "Lis", "Ruth", "Bodil", "Ingrid", "Dorthe", "Jette", "Annette",
    "Charlotte", "Britt", "Merete", "Vibeke", "Lisbeth", "Conny", "Aase", "Gurli",
    "Ellen", "Edith", "Ulla", "Tove", "Yvonne", "Dorte", "Hanna", "Rita", "Solveig",
    "Eva", "Birthe", "Pernille", "Camilla", "Louise", "Maria", "Janni",
)  # fmt: skip
FEMALE_YOUNGER: tuple[str, ...] = (
    "Emma", "Ida", "Sofia", "Freja", "Clara", "Alma", "Ella", "Agnes", "Laura", "Anna",
    "Karla", "Olivia", "Josefine", "Mathilde", "Ellen", "Esther", "Asta", "Liva",
    "Frida", "Lærke", "Signe", "Cecilie", "Line", "Maja", "Nanna", "Sara", "Katrine",
    "Julie", "Rikke", "Trine", "Malene", "Stine", "Sofie", "Caroline", "Amalie",
    "Marie", "Emilie", "Nora", "Vigga", "Lea", "Isabella", "Victoria", "Astrid",
    "Luna", "Aya", "Molly", "Saga", "Silje", "Naja", "Ronja",
)  # fmt: skip
FOREIGN_MALE: tuple[str, ...] = (
    "Tomasz", "Piotr", "Mohammad", "Ahmad", "Ali", "Omar", "Mehmet", "Andrei", "Ion",
    "Jonas", "Lukas", "Marco", "Juan", "José", "Rahul", "Wei",
)  # fmt: skip
FOREIGN_FEMALE: tuple[str, ...] = (
    "Anna", "Katarzyna", "Fatima", "Aisha", "Maryam", "Zeynep", "Elena", "Ioana",
    "Julia", "Giulia", "María", "Priya", "Li", "Sara", "Leila", "Noor",
)  # fmt: skip
FOREIGN_SURNAMES: tuple[str, ...] = (
    "Kowalski", "Nowak", "Wisniewski", "Hussein", "Ahmadi", "Mohammadi", "Yilmaz",
    "Kaya", "Popescu", "Ionescu", "Müller", "Schmidt", "Rossi", "García", "Smith",
    "Khan", "Sharma", "Wang", "Al-Hassan", "Haidari", "Santos", "Novak",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
    "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
    "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen",
    "Jakobsen", "Jacobsen", "Mikkelsen", "Olesen", "Frederiksen", "Laursen",
    "Henriksen", "Lund", "Holm", "Schmidt", "Eriksen", "Kristiansen", "Nissen",
    "Clausen", "Simonsen", "Svendsen", "Andreasen", "Iversen", "Jeppesen",
    "Vestergaard", "Mogensen", "Nørgaard", "Jessen", "Lauridsen", "Bertelsen", "Kjær",
    "Dam", "Søndergaard", "Bach", "Holst", "Østergaard", "Lind", "Krogh", "Friis",
    "Bak", "Munk", "Skov", "Dahl", "Berg", "Juhl", "Bruun", "Winther", "Kjeldsen",
    "Toft", "Vinther", "Høj", "Mathiasen", "Brandt", "Gregersen", "Ravn", "Beck",
    "Villadsen", "Steffensen", "Bech", "Lassen", "Overgaard", "Kofoed", "Kirkegaard",
    "Damgaard", "Hedegaard", "Lindholm", "Mølgaard", "Buch", "Koch", "Nygaard",
    "Bonde", "Krog", "Riis", "Fischer", "Abildgaard", "Sloth", "Storm", "Balle",
)  # fmt: skip
SURNAME_WEIGHTS: tuple[float, ...] = tuple(1.0 / (rank + 2) ** 0.9 for rank in range(len(SURNAMES)))

# Middle names are mostly surname-like family names in Denmark.
MIDDLE_NAMES: tuple[str, ...] = (
    "Møller", "Holm", "Skov", "Bach", "Lund", "Dahl", "Bak", "Krogh", "Juul", "Kjær",
    "Vestergaard", "Nørgaard", "Damgaard", "Winther", "Ravn", "Storm", "Friis", "Munk",
    "Bruun", "Lykke", "Hjort", "Borg", "Kruse", "Bech", "Toft", "Riis", "Krog", "Falk",
)  # fmt: skip

OCCUPATIONS: tuple[str, ...] = (
    "Sygeplejerske", "Skolelærer", "Pædagog", "Tømrer", "Elektriker", "Ingeniør",
    "Kontorassistent", "Social- og sundhedshjælper", "Murer", "Chauffør", "Konsulent",
    "Læge", "Advokat", "Smed", "Landmand", "Butiksassistent", "Ekspedient",
    "Programmør", "Revisor", "Politibetjent", "Frisør", "Kok", "Maler", "VVS-montør",
    "Salgschef", "Økonom", "Lagerarbejder", "Pilot", "Journalist", "Bibliotekar",
)  # fmt: skip
