import { expect, test } from '@playwright/test';
import { Shell } from '../pages/shell';

test('search by keyboard only: "/" focuses the box, arrows choose, Enter opens', async ({ page }) => {
  await page.goto('/catalog');
  await new Shell(page).waitForHydration();
  await page.keyboard.press('/');
  const box = page.getByRole('combobox', { name: 'Search the portal' });
  await expect(box).toBeFocused();
  await page.keyboard.type('fraud');
  const list = page.getByRole('listbox', { name: 'Search results' });
  await expect(list.getByRole('option').first()).toContainText('Fraud scoring');
  await expect(box).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(list.getByRole('option').first()).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', 'header-search-option-0');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/catalog\/default\/component\/fraud-scoring$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Fraud scoring' })).toBeVisible();

  // Escape closes the suggestions; Enter without a choice opens the results page.
  await box.focus();
  await box.fill('');
  await page.keyboard.type('payments');
  await expect(list).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(list).toBeHidden();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/search\?q=payments$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Search' })).toBeVisible();
  await expect(page.locator('.search-results li').first()).toContainText('Payments Group');
});

test('"/" typed in a text field is just a character', async ({ page }) => {
  await page.goto('/catalog');
  await new Shell(page).waitForHydration();
  const filter = page.getByLabel('Search', { exact: true });
  await filter.focus();
  await page.keyboard.type('a/b');
  await expect(filter).toHaveValue('a/b');
  await expect(page.getByRole('combobox', { name: 'Search the portal' })).not.toBeFocused();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the header box submits to a results page that works', async ({ page }) => {
    await page.goto('/catalog');
    const box = page.getByRole('combobox', { name: 'Search the portal' });
    await box.fill('ramírez');
    await box.press('Enter');
    await expect(page).toHaveURL(/\/search\?q=ram%C3%ADrez$/);
    await expect(page.getByRole('status')).toHaveText('1 result for “ramírez”.');
    const hit = page.locator('.search-results li');
    await expect(hit).toContainText('display name: Diego Ramírez');
    await hit.getByRole('link', { name: 'Diego Ramírez' }).click();
    await expect(page).toHaveURL(/\/catalog\/default\/user\/diego-ramirez$/);
    await expect(page.getByRole('region', { name: 'Diego Ramírez' })).toBeVisible();
  });

  test('a search across kinds names what matched', async ({ page }) => {
    await page.goto('/search?q=pci');
    await expect(page.getByRole('status')).toContainText('results for “pci”');
    await expect(page.locator('.search-results li').first()).toContainText('tag: pci');
  });
});
