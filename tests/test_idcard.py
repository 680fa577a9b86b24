from server import idcard
from tests.conftest import id_number


def test_valid_number_passes():
    assert idcard.problem(id_number(1)) is None
    assert idcard.problem("11010519491231002X") is None  # the standard's published example


def test_each_kind_of_bad_number_has_its_reason():
    good = id_number(1)
    wrong_check = good[:-1] + ("1" if good[-1] != "1" else "2")
    assert "18 characters" in idcard.problem(good[:-1])
    assert "17 digits" in idcard.problem("A" + good[1:])
    assert "birth date" in idcard.problem("370302" + "19650230" + "001" + "0")
    assert "check digit" in idcard.problem(wrong_check)


def test_mask_keeps_first_six_and_last_four():
    assert idcard.mask("11010519491231002X") == "110105********002X"
    assert idcard.mask(None) is None


def test_birth_year_and_sex_come_from_the_number():
    assert idcard.birth_year("11010519491231002X") == 1949
    assert idcard.sex("11010519491231002X") == "F"
