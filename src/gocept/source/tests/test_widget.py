"""A real z3c.form edit form on an object whose value left the source."""

import re
import unittest

import gocept.source.tests.layers
import z3c.form.field
import z3c.form.form
import z3c.form.interfaces
import zope.interface
import zope.publisher.browser
import zope.schema

from gocept.source.tests import sources


class IPaint(zope.interface.Interface):

    color = zope.schema.Choice(
        title='Color', source=sources.ColorSource())
    shade = zope.schema.Choice(
        title='Shade', source=sources.ContextColorSource())


@zope.interface.implementer(IPaint)
class Paint:
    """Stored before 'pink' and 'teal' left the sources."""

    color = 'pink'
    shade = 'teal'
    colors = ['cyan', 'magenta']  # what ContextColorSource offers


class PaintForm(z3c.form.form.EditForm):

    fields = z3c.form.field.Fields(IPaint)


def make_form(content, form_data=None):
    request = zope.publisher.browser.TestRequest(form=form_data or {})
    zope.interface.alsoProvides(request, z3c.form.interfaces.IFormLayer)
    form = PaintForm(content, request)
    form.update()
    return form


def submitted_option(html):
    """The value a browser submits for a single select: the selected
    option's, or the first option's when none is selected (HTML Living
    Standard, "selectedness setting algorithm")."""
    options = re.findall(r'<option [^>]*value="([^"]*)"([^>]*)>', html)
    for value, rest in options:
        if 'selected' in rest:
            return value
    return options[0][0]


def render(name, mode=z3c.form.interfaces.INPUT_MODE, content=None):
    form = make_form(content or Paint())
    widget = form.widgets[name]
    widget.mode = mode
    return widget, widget.render()


class MissingValueTest(unittest.TestCase):
    """z3c.form's MissingChoiceTermsSource shows a stored value that is not
    in the source as "Missing: VALUE" when ITerms.getTerm raises
    LookupError (z3c.form.term.MissingTermsMixin)."""

    layer = gocept.source.tests.layers.Z3C_FORM

    def test_select_shows_the_stored_value_of_a_basic_source_as_missing(self):
        widget, html = render('color')
        self.assertIn(
            '<option id="form-widgets-color-missing-0" value="pink"'
            ' selected="selected">Missing: pink</option>', html)
        self.assertEqual(['pink'], widget.value)
        # The real values are offered, none of them selected.
        self.assertIn('>Red</option>', html)
        self.assertEqual(1, html.count('selected="selected"'))

    def test_select_shows_the_stored_value_of_a_contextual_source_as_missing(
            self):
        widget, html = render('shade')
        self.assertIn('selected="selected">Missing: teal</option>', html)
        self.assertIn('>cyan</option>', html)
        self.assertEqual(1, html.count('selected="selected"'))

    def test_display_mode_shows_the_stored_value_as_missing(self):
        widget, html = render('color', z3c.form.interfaces.DISPLAY_MODE)
        self.assertIn(
            '<span class="selected-option">Missing: pink</span>', html)

    def test_a_value_in_the_source_is_shown_as_chosen(self):
        paint = Paint()
        paint.color = 'green'
        widget, html = render('color', content=paint)
        self.assertIn('selected="selected">Green</option>', html)
        self.assertNotIn('Missing', html)

    def submit_as_rendered(self, paint, **chosen):
        """Submit the form as a browser would, with `chosen` tokens."""
        data = {'form.buttons.apply': 'Apply'}
        for name in ('color', 'shade'):
            widget, html = render(name, content=paint)
            data[f'form.widgets.{name}'] = [
                chosen.get(name) or submitted_option(html)]
            data[f'form.widgets.{name}-empty-marker'] = '1'
        return make_form(paint, data)

    def test_choosing_a_value_of_the_source_stores_it(self):
        paint = Paint()
        self.submit_as_rendered(
            paint, color='9f27410725ab8cc8854a2769c7a516b8',  # green
            shade='6411532ba4971f378391776a9db629d3')  # cyan
        self.assertEqual('green', paint.color)
        self.assertEqual('cyan', paint.shade)

    def test_saving_unchanged_does_not_store_another_value(self):
        # With zc.sourcefactory's terms no option is selected, so the
        # browser submits the first one and 'red' replaces 'pink' without
        # a word. Now the missing value is submitted back; z3c.form 6.1's
        # MissingTermsMixin has a getTermByToken but no getValue fallback,
        # so its data converter raises the LookupError of our getValue:
        # loud, and nothing is written.
        paint = Paint()
        with self.assertRaises(LookupError):
            self.submit_as_rendered(paint)
        self.assertEqual('pink', paint.color)
        self.assertEqual('teal', paint.shade)
