"""Hard negatives: records that must NOT be merged with each other (each its own label).

* ``template_brief``: short wire briefs from one template with other
  companies, figures, teams, places (10 templates).
* ``recurring_headline``: one recurring headline ("Market close" ...) over
  bodies taken from different real articles.
* ``same_topic`` and ``semeval_same_story`` are picked in ``build.py``.
"""

from __future__ import annotations

import random

__all__ = ["TEMPLATES", "brief", "RECURRING_HEADLINES"]

_CO_A = ["Amberline", "Northgate", "Calder", "Vireo", "Halcyon", "Brightwater", "Kestrel", "Marlow", "Orchard",
         "Pinnacle", "Redfern", "Silverton", "Thornbury", "Upland", "Westmoor", "Ashby", "Corvid", "Dunmore",
         "Elmstead", "Foxhall", "Glenrock", "Harwood", "Ironbridge", "Juniper", "Kingsway", "Lakeside"]
_CO_B = ["Industries", "Holdings", "Foods", "Energy", "Bancorp", "Technologies", "Resources", "Mining",
         "Pharmaceuticals", "Retail", "Logistics", "Chemicals", "Insurance", "Media"]
_CO_C = ["Inc", "Corp", "plc", "Ltd", "Co"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_TEAMS = ["Rovers", "United", "City", "Athletic", "Wanderers", "Albion", "Town", "County", "Rangers", "Harriers"]
_TOWNS = ["Ashford", "Bexley", "Crewe", "Dover", "Exeter", "Frome", "Gillingham", "Hull", "Ipswich", "Jarrow",
          "Kendal", "Leek", "Morpeth", "Newark", "Oldham", "Poole", "Ripon", "Selby", "Tiverton", "Wigan"]
_CITIES = ["Chicago", "Denver", "Atlanta", "Boston", "Seattle", "Houston", "Phoenix", "Detroit", "Miami", "Dallas"]
_NAMES = ["John Harper", "Susan Mills", "Robert Keane", "Linda Osei", "Michael Grant", "Karen Boyd", "Peter Lang",
          "Alison Ford", "Richard Vance", "Janet Cole", "Thomas Reyes", "Diane Shaw"]
_POSTS = ["chief executive", "chief financial officer", "chairman", "president", "chief operating officer"]
_SKY = ["sunny spells", "scattered showers", "persistent rain", "low cloud", "patchy fog", "heavy snow", "thunderstorms"]
_WIND = ["light", "moderate", "fresh", "strong"]
_DIRS = ["north", "south", "east", "west", "north-west", "south-west", "north-east", "south-east"]
_INDEX = [("Dow Jones industrial average", "New York"), ("FTSE 100 index", "London"), ("Nikkei average", "Tokyo"),
          ("DAX index", "Frankfurt"), ("CAC 40 index", "Paris"), ("Hang Seng index", "Hong Kong")]


def _company(rng: random.Random) -> str:
    return f"{rng.choice(_CO_A)} {rng.choice(_CO_B)} {rng.choice(_CO_C)}"


def _date(rng: random.Random) -> str:
    return f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}"


def _dividend(r):
    c, cur = _company(r), r.randint(5, 60)
    return (f"{c} said its board declared a quarterly dividend of {cur} cents per share, payable {_date(r)} to "
            f"holders of record {_date(r)}. The company paid {cur - r.randint(0, 4)} cents a share in the previous "
            f"quarter. {c.split()[0]} shares closed at {r.randint(10, 90)}.{r.randint(10, 99)} dlrs on {r.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'])}.")


def _earnings(r):
    c = _company(r)
    return (f"{c} reported net income of {r.randint(2, 400)}.{r.randint(1, 9)} mln dlrs, or {r.randint(5, 250)} cts a "
            f"share, for the {r.choice(['first', 'second', 'third', 'fourth'])} quarter, compared with "
            f"{r.randint(2, 400)}.{r.randint(1, 9)} mln dlrs, or {r.randint(5, 250)} cts a share, a year earlier. "
            f"Revenue rose {r.randint(1, 25)} pct to {r.randint(50, 3000)} mln dlrs, the company said.")


def _football(r):
    a, b = r.sample(_TOWNS, 2)
    ga, gb = r.randint(0, 5), r.randint(0, 5)
    return (f"{a} {r.choice(_TEAMS)} beat {b} {r.choice(_TEAMS)} {max(ga, gb) + 1}-{min(ga, gb)} on {r.choice(['Saturday', 'Sunday', 'Tuesday'])} "
            f"in front of a crowd of {r.randint(2, 40)},{r.randint(100, 999)}. {r.choice(_NAMES)} scored twice for the home side, "
            f"who move up to {r.choice(['second', 'third', 'fifth', 'seventh', 'ninth'])} in the table with {r.randint(10, 70)} points.")


def _weather(r):
    return (f"Weather for {r.choice(_TOWNS)} and surrounding areas: {r.choice(_SKY)} in the morning, turning to "
            f"{r.choice(_SKY)} later. Highs of {r.randint(2, 30)}C, lows of {r.randint(-5, 15)}C. Winds {r.choice(_WIND)} "
            f"from the {r.choice(_DIRS)}. Sunrise {r.randint(5, 8)}:{r.randint(10, 59)}, sunset {r.randint(16, 21)}:{r.randint(10, 59)}.")


def _index(r):
    name, city = r.choice(_INDEX)
    return (f"The {name} closed {r.choice(['up', 'down'])} {r.randint(2, 250)}.{r.randint(10, 99)} points, or "
            f"{r.randint(0, 3)}.{r.randint(1, 9)} pct, at {r.randint(1500, 22000)}.{r.randint(10, 99)} in {city} on "
            f"{r.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'])}. Volume was {r.randint(80, 900)} mln shares. "
            f"{_company(r)} was the most active stock, {r.choice(['rising', 'falling'])} {r.randint(1, 12)} pct.")


def _appointment(r):
    c = _company(r)
    return (f"{c} said it appointed {r.choice(_NAMES)} as {r.choice(_POSTS)}, effective {_date(r)}, succeeding "
            f"{r.choice(_NAMES)}, who is retiring after {r.randint(3, 30)} years with the company. The new executive "
            f"previously worked at {_company(r)}.")


def _acquisition(r):
    a, b = _company(r), _company(r)
    return (f"{a} said it agreed to buy {b} for about {r.randint(10, 900)} mln dlrs in cash and stock. The deal, "
            f"which values {b.split()[0]} at {r.randint(5, 80)} dlrs a share, is expected to close in the "
            f"{r.choice(['first', 'second', 'third', 'fourth'])} quarter, subject to regulatory approval.")


def _buyback(r):
    c = _company(r)
    return (f"{c} said its board authorised the repurchase of up to {r.randint(1, 20)} mln of its common shares. "
            f"The company has about {r.randint(20, 400)} mln shares outstanding. It said the buyback would be funded "
            f"from {r.choice(['cash on hand', 'operating cash flow', 'existing credit lines'])}.")


def _rates(r):
    city = r.choice(_CITIES)
    return (f"{_company(r)}, the {city}-based lender, said it {r.choice(['raised', 'lowered'])} its prime lending rate to "
            f"{r.randint(6, 10)}-{r.choice(['1/4', '1/2', '3/4'])} pct from {r.randint(6, 10)}-{r.choice(['1/4', '1/2', '3/4'])} pct, "
            f"effective {_date(r)}. Other banks in {city} were expected to follow.")


def _traffic(r):
    return (f"Police in {r.choice(_TOWNS)} said the {r.choice(['A', 'B', 'M'])}{r.randint(1, 999)} was closed in both "
            f"directions for {r.randint(2, 9)} hours on {r.choice(['Monday', 'Wednesday', 'Friday', 'Sunday'])} after a "
            f"collision involving {r.randint(2, 5)} vehicles. {r.choice(['One person was', 'Two people were', 'Three people were'])} "
            f"taken to hospital with minor injuries.")


TEMPLATES = {"dividend": _dividend, "earnings": _earnings, "football": _football, "weather": _weather,
             "index_close": _index, "appointment": _appointment, "acquisition": _acquisition,
             "buyback": _buyback, "prime_rate": _rates, "traffic": _traffic}

TEMPLATE_TITLES = {"dividend": "{co} sets quarterly dividend", "earnings": "{co} quarterly results",
                   "football": "Football: results", "weather": "Weather forecast", "index_close": "Stocks close",
                   "appointment": "{co} names new executive", "acquisition": "{co} agrees acquisition",
                   "buyback": "{co} announces share buyback", "prime_rate": "Bank changes prime rate",
                   "traffic": "Road closed after crash"}


def brief(rng: random.Random, kind: str) -> tuple[str, str]:
    """``(title, text)`` of one brief of template ``kind``."""
    text = TEMPLATES[kind](rng)
    co = " ".join(text.split()[:2])
    return TEMPLATE_TITLES[kind].format(co=co), text


RECURRING_HEADLINES = ["Market close", "Weather forecast", "Today in history", "Morning briefing",
                       "News in brief", "Sports roundup", "What the papers say", "The week ahead"]
RECURRING_KICKERS = {"Market close": "Here is the market close report.",
                     "Weather forecast": "Here is the latest forecast and the day's other news.",
                     "Today in history": "On this day in the news:", "Morning briefing": "Good morning. Here is what you need to know.",
                     "News in brief": "The main stories in brief.", "Sports roundup": "Our roundup of the day's sport.",
                     "What the papers say": "A look at what the papers are saying.",
                     "The week ahead": "The stories to watch this week."}
