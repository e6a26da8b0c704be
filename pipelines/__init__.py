"""The processing core of newswatch: plain functions over plain data, no Scrapy inside.

Stages, in the order a page meets them: ``extract`` (html -> Article | None), ``dedup``
(Article -> new | duplicate of a stored document), ``topics`` (Article -> matches, with why),
``store`` (one transaction per article: article row, matches, alert rows), ``alerts``
(outbox -> SMTP or Maildir).
"""

__version__ = "0.1.0"
