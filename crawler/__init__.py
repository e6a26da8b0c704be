"""The Scrapy side of newswatch.

Settings, items, the generic spider, thin item-pipeline adapters and the command line.
"""
