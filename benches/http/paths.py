#!/usr/bin/env python3
"""Writes one URL path per query (for wrk's rotate.lua): paths.py QUERIES_JSON > paths.txt"""
import json, sys, urllib.parse
for text in json.load(open(sys.argv[1], encoding='utf-8')).values():
    print('/api/search?' + urllib.parse.urlencode({'q': text, 'limit': '10'}, quote_via=urllib.parse.quote))
