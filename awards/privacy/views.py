from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/account/data")
