"""A bare Flask app with one route answering "hello": the yardstick of bench/city.py, served by
gunicorn with the same settings as carebank, so each page's figures are ratios to it."""
from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "hello"
